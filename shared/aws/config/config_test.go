package config

import (
	"strings"
	"testing"
)

func TestLoadReportsEveryProblem(t *testing.T) {
	env := map[string]string{"DECKHAND_ACCOUNT": "12", "DECKHAND_EXTERNAL_ID": "has spaces", "DECKHAND_SNAPSHOT": "opt/deckhand"}
	_, err := Load(func(k string) string { return env[k] }, NeedQueue, NeedJobQueue)
	if err == nil {
		t.Fatal("Load with an empty environment succeeded")
	}
	for _, want := range []string{"DECKHAND_BUCKET", "AWS_REGION", "DECKHAND_QUEUE_URL", "DECKHAND_JOB_QUEUE_URL", "DECKHAND_ACCOUNT", "DECKHAND_EXTERNAL_ID", "DECKHAND_SNAPSHOT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	env := map[string]string{"DECKHAND_BUCKET": "b", "AWS_REGION": "us-west-2", "DECKHAND_EXTERNAL_ID": "deckhand:123456789012/eu-central-1",
		"DECKHAND_SNAPSHOT": "/opt/deckhand"}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.ManifestKey != "deckhand.yaml" || c.EventBus != "default" || c.ExternalID != env["DECKHAND_EXTERNAL_ID"] || c.Snapshot != "/opt/deckhand" {
		t.Errorf("defaults = %+v", c)
	}
}
