package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const item = "name: new\ncluster: prod\n"

func TestManifestTextEdits(t *testing.T) {
	cases := map[string]struct {
		src  string
		edit func(*manifestText) error
		want string
	}{
		"an item goes after the last one, before the next section's comment": {
			src:  "version: 1\nservices:\n  - name: a\n    cluster: prod\n\n# jobs\njobs:\n  - name: j\n",
			edit: func(m *manifestText) error { return m.appendItem("services", []byte(item)) },
			want: "version: 1\nservices:\n  - name: a\n    cluster: prod\n  - name: new\n    cluster: prod\n\n# jobs\njobs:\n  - name: j\n",
		},
		"the list's own indentation is kept": {
			src:  "version: 1\nservices:\n- name: a\n",
			edit: func(m *manifestText) error { return m.appendItem("services", []byte(item)) },
			want: "version: 1\nservices:\n- name: a\n- name: new\n  cluster: prod\n",
		},
		"a missing section is added at the end": {
			src:  "version: 1 # comment kept\n",
			edit: func(m *manifestText) error { return m.appendItem("jobs", []byte(item)) },
			want: "version: 1 # comment kept\njobs:\n  - name: new\n    cluster: prod\n",
		},
		"an empty flow list becomes a block list": {
			src:  "version: 1\njobs: []\nservices:\n  - name: a\n",
			edit: func(m *manifestText) error { return m.appendItem("jobs", []byte(item)) },
			want: "version: 1\njobs:\n  - name: new\n    cluster: prod\nservices:\n  - name: a\n",
		},
		"an empty manifest becomes version 1": {
			src: "",
			edit: func(m *manifestText) error {
				return m.appendScalars("roles", []string{"arn:aws:iam::123456789012:role/r"})
			},
			want: "version: 1\nroles:\n  - arn:aws:iam::123456789012:role/r\n",
		},
		"a middle item is removed with its lines only": {
			src: "services:\n  - name: a\n  # about b\n  - name: b\n    cluster: x\n\n  - name: c\n",
			edit: func(m *manifestText) error {
				if !m.removeItem("services", "b") {
					t.Error("b not removed")
				}
				return nil
			},
			want: "services:\n  - name: a\n  # about b\n\n  - name: c\n",
		},
		"the last item is removed up to the next section": {
			src: "services:\n  - name: a\n  - name: b\n    cluster: x\n\njobs: []\n",
			edit: func(m *manifestText) error {
				if !m.removeItem("services", "b") {
					t.Error("b not removed")
				}
				return nil
			},
			want: "services:\n  - name: a\n\njobs: []\n",
		},
	}
	for name, tc := range cases {
		m, err := parseManifestText("deckhand.yaml", []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := tc.edit(m); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, string(m.bytes())); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", name, diff)
		}
	}
}

func TestManifestTextRefusesAFlowList(t *testing.T) {
	m, err := parseManifestText("deckhand.yaml", []byte("version: 1\nservices: [{name: a}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = m.appendItem("services", []byte(item))
	if err == nil || !strings.Contains(err.Error(), "deckhand.yaml:2: services: is not a block list") {
		t.Errorf("appendItem to a flow list: %v", err)
	}
}
