package ecrimages

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
)

var now = time.Date(2026, 7, 1, 3, 0, 30, 0, time.UTC)

func image(tag, digest string, pushed time.Time) ecrtypes.ImageDetail {
	return ecrtypes.ImageDetail{RegistryId: aws.String("123456789012"), RepositoryName: aws.String("r"),
		ImageTags: []string{tag}, ImageDigest: aws.String(digest), ImagePushedAt: aws.Time(pushed)}
}

// TestNewest is the "newest eligible image" rule: the latest push, then
// (in one instant) the policy's version order, then the tag string.
func TestNewest(t *testing.T) {
	ago := func(h int) time.Time { return now.Add(time.Duration(-h) * time.Hour) }
	tests := map[string]struct {
		policy     string
		details    []ecrtypes.ImageDetail
		wantTag    string
		wantDigest string
		wantFound  bool
	}{
		"the latest push wins, even with a lower version": {
			policy:  "semver:*",
			details: []ecrtypes.ImageDetail{image("1.10.0", "sha256:a", ago(72)), image("1.9.1", "sha256:b", ago(1)), image("latest", "sha256:c", ago(0))},
			wantTag: "1.9.1", wantDigest: "sha256:b", wantFound: true,
		},
		"pushes in one instant order by version": {
			policy:  "semver:*",
			details: []ecrtypes.ImageDetail{image("1.10.0", "sha256:a", ago(1)), image("1.9.0", "sha256:b", ago(1))},
			wantTag: "1.10.0", wantDigest: "sha256:a", wantFound: true,
		},
		"pushes in one instant with no version order take the highest tag": {
			policy:  "glob:stable-*",
			details: []ecrtypes.ImageDetail{image("stable-b", "sha256:b", ago(1)), image("stable-c", "sha256:c", ago(1)), image("stable-a", "sha256:a", ago(1))},
			wantTag: "stable-c", wantDigest: "sha256:c", wantFound: true,
		},
		"a semver range excludes versions outside it": {
			policy:  "semver:>=1.0.0 <2.0.0",
			details: []ecrtypes.ImageDetail{image("2.0.0", "sha256:a", ago(1)), image("1.4.0", "sha256:b", ago(5))},
			wantTag: "1.4.0", wantDigest: "sha256:b", wantFound: true,
		},
		"glob picks the latest push": {
			policy:  "glob:stable-*",
			details: []ecrtypes.ImageDetail{image("stable-b", "sha256:a", ago(5)), image("stable-a", "sha256:b", ago(1)), image("dev-z", "sha256:c", ago(0))},
			wantTag: "stable-a", wantDigest: "sha256:b", wantFound: true,
		},
		"no eligible tag finds nothing": {
			policy:  "regex:release-[0-9]+",
			details: []ecrtypes.ImageDetail{image("latest", "sha256:a", ago(1))},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			policy, err := tagpolicy.Parse(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			// Either listing order gives the same answer.
			for _, details := range [][]ecrtypes.ImageDetail{tc.details, reversed(tc.details)} {
				got, found := NewestOf(details, "us-east-1", policy)
				if found != tc.wantFound {
					t.Fatalf("found = %v, want %v", found, tc.wantFound)
				}
				if diff := cmp.Diff([2]string{tc.wantTag, tc.wantDigest}, [2]string{got.Tag, got.Digest}); found && diff != "" {
					t.Errorf("newest (-want +got):\n%s", diff)
				}
				if found && got.Registry != "123456789012.dkr.ecr.us-east-1.amazonaws.com" {
					t.Errorf("registry = %q", got.Registry)
				}
			}
		})
	}
}

func reversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// fakeECR answers DescribeImages in pages of two.
type fakeECR struct {
	details []ecrtypes.ImageDetail
	calls   int
}

func (f *fakeECR) DescribeImages(_ context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	f.calls++
	start := 0
	if in.NextToken != nil {
		start = int(aws.ToString(in.NextToken)[0] - '0')
	}
	end := min(start+2, len(f.details))
	out := &ecr.DescribeImagesOutput{ImageDetails: f.details[start:end]}
	if end < len(f.details) {
		out.NextToken = aws.String(string(rune('0' + end)))
	}
	return out, nil
}

func TestNewestReadsEveryPage(t *testing.T) {
	f := &fakeECR{details: []ecrtypes.ImageDetail{
		image("1.0.0", "sha256:a", now.Add(-3*time.Hour)), image("1.1.0", "sha256:b", now.Add(-2*time.Hour)),
		image("1.2.0", "sha256:c", now.Add(-time.Hour)), image("0.9.0", "sha256:d", now.Add(-4*time.Hour)),
	}}
	policy, _ := tagpolicy.Parse("semver:*")
	img, err := Newest(context.Background(), f, "us-east-1", "r", policy)
	if err != nil {
		t.Fatal(err)
	}
	if img.Tag != "1.2.0" || f.calls != 2 {
		t.Errorf("newest = %s after %d calls, want 1.2.0 from the second page", img.Tag, f.calls)
	}
	none, _ := tagpolicy.Parse("glob:stable-*")
	if _, err := Newest(context.Background(), f, "us-east-1", "r", none); !errors.Is(err, ErrNoEligibleImage) {
		t.Errorf("no eligible tag: err = %v, want ErrNoEligibleImage", err)
	}
}

// byDigest answers DescribeImages for image ids as ECR does: the whole
// request fails when one image is missing.
type byDigest struct {
	images map[string]time.Time
	calls  int
}

func (f *byDigest) DescribeImages(_ context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	f.calls++
	out := &ecr.DescribeImagesOutput{}
	for _, id := range in.ImageIds {
		at, ok := f.images[aws.ToString(id.ImageDigest)]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "ImageNotFoundException"}
		}
		out.ImageDetails = append(out.ImageDetails, ecrtypes.ImageDetail{ImageDigest: id.ImageDigest, ImagePushedAt: aws.Time(at)})
	}
	return out, nil
}

func TestPushedAt(t *testing.T) {
	early, late := now.Add(100*time.Millisecond), now.Add(900*time.Millisecond)
	tests := map[string]struct {
		digests   []string
		want      map[string]time.Time
		wantCalls int
	}{
		"two images in one call, to the millisecond": {[]string{"sha256:a", "sha256:b"}, map[string]time.Time{"sha256:a": early, "sha256:b": late}, 1},
		"a deleted image is left out":                {[]string{"sha256:a", "sha256:gone"}, map[string]time.Time{"sha256:a": early}, 3},
		"only deleted images find nothing":           {[]string{"sha256:gone"}, map[string]time.Time{}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := &byDigest{images: map[string]time.Time{"sha256:a": early, "sha256:b": late}}
			got, err := PushedAt(context.Background(), f, "", "r", tc.digests...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" || f.calls != tc.wantCalls {
				t.Errorf("PushedAt (-want +got):\n%s; calls %d, want %d", diff, f.calls, tc.wantCalls)
			}
		})
	}
}
