package sandbox_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
)

const ociManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
	`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":100,"digest":"sha256:aa"},"layers":[]}`

func digestOf(manifest string) string {
	sum := sha256.Sum256([]byte(manifest))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestPutImageEmitsImageActionLikeFixture(t *testing.T) {
	c := start(t)
	if _, err := c.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ecr.PutImage(ctx, &ecr.PutImageInput{
		RepositoryName: aws.String("web"), ImageManifest: aws.String(ociManifest), ImageTag: aws.String("1.5.0"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.Image.ImageId.ImageDigest), digestOf(ociManifest); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
	evs := c.sb.Events()
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	got := toMap(t, evs[0])
	want := readFixture(t, "ecr-image-action-push-media-types.json")
	want["id"], want["time"] = got["id"], "2026-11-16T01:00:00Z"
	want["detail"].(map[string]any)["image-digest"] = digestOf(ociManifest)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if _, err := events.DecodeImageAction(mustJSON(t, evs[0])); err != nil {
		t.Errorf("decode emitted event: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPutImageTags(t *testing.T) {
	c := start(t)
	c.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web")})
	put := func(manifest, tag string) error {
		in := &ecr.PutImageInput{RepositoryName: aws.String("web"), ImageManifest: aws.String(manifest)}
		if tag != "" {
			in.ImageTag = aws.String(tag)
		}
		_, err := c.ecr.PutImage(ctx, in, noRetry.ecr)
		return err
	}
	a, b := `{"schemaVersion":2,"n":1}`, `{"schemaVersion":2,"n":2}`
	for _, step := range []struct{ manifest, tag string }{{a, "1.0"}, {a, "latest"}, {b, "2.0"}, {b, "latest"}, {a, ""}} {
		err := put(step.manifest, step.tag)
		if step.tag == "" {
			var exists *ecrtypes.ImageAlreadyExistsException
			if !errors.As(err, &exists) {
				t.Errorf("untagged re-push: err = %v, want ImageAlreadyExistsException", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("put %s: %v", step.tag, err)
		}
	}
	var exists *ecrtypes.ImageAlreadyExistsException
	if err := put(b, "latest"); !errors.As(err, &exists) {
		t.Errorf("same tag and digest: err = %v, want ImageAlreadyExistsException", err)
	}
	out, err := c.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, d := range out.ImageDetails {
		got[aws.ToString(d.ImageDigest)] = d.ImageTags
		if d.ImagePushedAt == nil || !d.ImagePushedAt.Equal(c.sb.Clock().Now()) || aws.ToInt64(d.ImageSizeInBytes) == 0 {
			t.Errorf("detail %s: pushedAt %v size %v", aws.ToString(d.ImageDigest), d.ImagePushedAt, d.ImageSizeInBytes)
		}
		if aws.ToString(d.ImageManifestMediaType) != "application/vnd.docker.distribution.manifest.v2+json" {
			t.Errorf("media type = %s", aws.ToString(d.ImageManifestMediaType))
		}
	}
	want := map[string][]string{digestOf(a): {"1.0"}, digestOf(b): {"2.0", "latest"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tags by digest (-want +got):\n%s", diff)
	}
	// By tag, and a missing tag.
	byTag, err := c.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("latest")}}})
	if err != nil || len(byTag.ImageDetails) != 1 || aws.ToString(byTag.ImageDetails[0].ImageDigest) != digestOf(b) {
		t.Errorf("describe latest: %v %+v", err, byTag)
	}
	var nf *ecrtypes.ImageNotFoundException
	if _, err := c.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("nope")}}}, noRetry.ecr); !errors.As(err, &nf) {
		t.Errorf("describe missing tag: err = %v, want ImageNotFoundException", err)
	}
	var rnf *ecrtypes.RepositoryNotFoundException
	if _, err := c.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("nope")}, noRetry.ecr); !errors.As(err, &rnf) {
		t.Errorf("describe missing repo: err = %v, want RepositoryNotFoundException", err)
	}
}

func TestDescribeImagesPagesAndFilters(t *testing.T) {
	c := start(t)
	for _, tag := range []string{"a", "b", "c", ""} {
		c.sb.PushImage("api", tag)
	}
	tests := map[string]struct {
		status ecrtypes.TagStatus
		want   int
	}{
		"any status returns every image": {"", 4},
		"tagged skips the untagged":      {ecrtypes.TagStatusTagged, 3},
		"untagged returns only it":       {ecrtypes.TagStatusUntagged, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := &ecr.DescribeImagesInput{RepositoryName: aws.String("api"), MaxResults: aws.Int32(2)}
			if tc.status != "" {
				in.Filter = &ecrtypes.DescribeImagesFilter{TagStatus: tc.status}
			}
			n := 0
			p := ecr.NewDescribeImagesPaginator(c.ecr, in)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				n += len(page.ImageDetails)
			}
			if n != tc.want {
				t.Errorf("got %d images, want %d", n, tc.want)
			}
		})
	}
}

func TestBatchGetListAndDelete(t *testing.T) {
	c := start(t)
	d1 := c.sb.PushImage("web", "1.0")
	c.sb.PushImage("web", "2.0")
	got, err := c.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("1.0")}, {ImageTag: aws.String("9.9")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Images) != 1 || aws.ToString(got.Images[0].ImageId.ImageDigest) != d1 || digestOf(aws.ToString(got.Images[0].ImageManifest)) != d1 {
		t.Errorf("BatchGetImage images = %+v", got.Images)
	}
	if len(got.Failures) != 1 || got.Failures[0].FailureCode != ecrtypes.ImageFailureCodeImageNotFound {
		t.Errorf("BatchGetImage failures = %+v", got.Failures)
	}
	list, err := c.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("web")})
	if err != nil || len(list.ImageIds) != 2 {
		t.Fatalf("ListImages = %+v, %v", list, err)
	}
	c.sb.Clock().Advance(0)
	del, err := c.ecr.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("1.0")}}})
	if err != nil || len(del.ImageIds) != 1 {
		t.Fatalf("BatchDeleteImage = %+v, %v", del, err)
	}
	evs := c.sb.Events()
	last, err := events.DecodeImageAction(mustJSON(t, evs[len(evs)-1]))
	if err != nil {
		t.Fatal(err)
	}
	want := events.ECRImageAction{Result: "SUCCESS", RepositoryName: "web", ImageDigest: d1, ActionType: "DELETE", ImageTag: "1.0"}
	if diff := cmp.Diff(want, last.Detail); diff != "" {
		t.Errorf("delete event (-want +got):\n%s", diff)
	}
}

func TestPushImageSilentlyEmitsNothing(t *testing.T) {
	c := start(t)
	c.sb.PushImage("web", "1.0")
	silent := c.sb.PushImageSilently("web", "1.1")
	untagged := c.sb.PushImage("web", "")
	evs := c.sb.Events()
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2 (the silent push emits none)", len(evs))
	}
	ev, err := events.DecodeImageAction(mustJSON(t, evs[1]))
	if err != nil || ev.Detail.ImageDigest != untagged || ev.Detail.ImageTag != "" {
		t.Errorf("untagged push event = %+v, %v", ev.Detail, err)
	}
	if !json.Valid(evs[1].Detail) || string(evs[1].Detail) == "" || containsKey(t, evs[1].Detail, "image-tag") {
		t.Errorf("untagged push event must omit image-tag: %s", evs[1].Detail)
	}
	out, err := c.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("1.1")}}})
	if err != nil || aws.ToString(out.ImageDetails[0].ImageDigest) != silent {
		t.Errorf("silent push not in ECR: %+v %v", out, err)
	}
}

func containsKey(t *testing.T, raw json.RawMessage, key string) bool {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	_, ok := m[key]
	return ok
}
