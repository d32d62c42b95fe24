package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ImageRef is an --image argument: [REGISTRY/]REPO:TAG, [REGISTRY/]REPO@DIGEST
// or both (REPO:TAG@DIGEST).
type ImageRef struct {
	Registry   string
	Repository string
	Tag        string
	Digest     string
}

func (r ImageRef) String() string {
	s := r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

var digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ParseImageRef parses an --image argument.
func ParseImageRef(s string) (ImageRef, error) {
	img := taskdef.ParseImageURI(strings.TrimSpace(s))
	ref := ImageRef{Registry: img.Registry, Repository: img.Repository, Tag: img.Tag, Digest: img.Digest}
	switch {
	case ref.Repository == "":
		return ref, usagef("--image %q: want REPO:TAG or REPO@sha256:DIGEST, e.g. --image web:1.4.0", s)
	case ref.Tag == "" && ref.Digest == "":
		return ref, usagef("--image %q has neither a tag nor a digest; write e.g. --image %s:1.4.0 or %s@sha256:…", s, ref.Repository, ref.Repository)
	case ref.Digest != "" && !digestRe.MatchString(ref.Digest):
		return ref, usagef("--image %q: digest %q is not sha256:<64 hex digits>", s, ref.Digest)
	}
	return ref, nil
}

// Resolved is an image resolved for deployment, with every tag ECR knows
// for it.
type Resolved struct {
	taskdef.Image
	Tags []string
	// Fake is true when the digest was made up offline.
	Fake bool
	// Offline is true when the image was not looked up: an image given by
	// digest alone then has no tag to check against the policy.
	Offline bool
}

// ResolveImage looks a reference up in ECR: the digest and push time of
// REPO:TAG, or the tags and push time of REPO@DIGEST.
func (e *Env) ResolveImage(ctx context.Context, ref ImageRef) (Resolved, error) {
	id := ecrtypes.ImageIdentifier{}
	if ref.Digest != "" {
		id.ImageDigest = aws.String(ref.Digest)
	} else {
		id.ImageTag = aws.String(ref.Tag)
	}
	in := &ecr.DescribeImagesInput{RepositoryName: aws.String(ref.Repository), ImageIds: []ecrtypes.ImageIdentifier{id}}
	if acct, _, ok := strings.Cut(ref.Registry, "."); ok && acct != "" {
		in.RegistryId = aws.String(acct)
	}
	out, err := e.ECR.DescribeImages(ctx, in)
	if err != nil {
		if awserr.ImageNotFound(err) {
			return Resolved{}, &NotFoundError{Kind: "image", Name: ref.String(),
				Hint: fmt.Sprintf("list what exists with `aws ecr describe-images --repository-name %s`", ref.Repository)}
		}
		return Resolved{}, fmt.Errorf("describe image %s: %w", ref, err)
	}
	if len(out.ImageDetails) == 0 {
		return Resolved{}, &NotFoundError{Kind: "image", Name: ref.String(), Hint: "push it first"}
	}
	d := out.ImageDetails[0]
	registry := ref.Registry
	if registry == "" {
		acct := aws.ToString(d.RegistryId)
		if acct == "" {
			acct = e.Account
		}
		registry = taskdef.Registry(acct, e.Region)
	}
	r := Resolved{Image: taskdef.Image{
		Registry: registry, Repository: ref.Repository, Tag: ref.Tag,
		Digest: aws.ToString(d.ImageDigest), PushedAt: aws.ToTime(d.ImagePushedAt),
	}, Tags: d.ImageTags}
	if ref.Digest != "" && ref.Digest != r.Digest {
		return Resolved{}, fmt.Errorf("image %s: ECR answered digest %s", ref, r.Digest)
	}
	return r, nil
}

// OfflineImage resolves a reference without AWS: the digest is the
// reference's own, else digest (from --digest), else a made-up one (Fake).
func OfflineImage(ref ImageRef, digest, registry string) (Resolved, error) {
	r := Resolved{Image: taskdef.Image{Registry: ref.Registry, Repository: ref.Repository, Tag: ref.Tag, Digest: ref.Digest}, Offline: true}
	if r.Registry == "" {
		r.Registry = registry
	}
	if ref.Tag != "" {
		r.Tags = []string{ref.Tag}
	}
	if r.Digest == "" {
		if digest != "" {
			if !digestRe.MatchString(digest) {
				return r, usagef("--digest %q is not sha256:<64 hex digits>", digest)
			}
			r.Digest = digest
		} else {
			r.Digest, r.Fake = FakeDigest(ref.Repository, ref.Tag), true
		}
	}
	return r, nil
}

// FakeDigest is an obviously made-up, stable digest for offline rendering:
// sixteen zeros, then a hash of the repository and tag.
func FakeDigest(repository, tag string) string {
	sum := sha256.Sum256([]byte("deckhand-offline\x00" + repository + "\x00" + tag))
	return "sha256:" + strings.Repeat("0", 16) + hex.EncodeToString(sum[:])[:48]
}

// assignImages matches resolved images to the containers of a binding or
// job by repository. Each image must feed at least one container and, for
// services, carry a tag the container's policy accepts (the deployer skips
// other tags).
func assignImages(name string, images map[string]manifest.Image, refs []Resolved, checkPolicy bool) (map[string]Resolved, error) {
	out := map[string]Resolved{}
	for _, r := range refs {
		matched := false
		for _, c := range sortedKeys(images) {
			src := images[c]
			if src.Origin() != r.Repository {
				continue
			}
			matched = true
			if checkPolicy && !(r.Offline && r.Tag == "") {
				tag, ok := pickTag(src, r)
				if !ok {
					return nil, usagef("image %s: tag %s does not match %s's policy %q for container %s; the deployer would skip it",
						r.Repository, strings.Join(r.Tags, ", "), name, src.Tags, c)
				}
				r.Tag = tag
			}
			out[c] = r
		}
		if !matched {
			var repos []string
			for _, c := range sortedKeys(images) {
				if repo := images[c].Origin(); repo != "" && !slices.Contains(repos, repo) {
					repos = append(repos, repo)
				}
			}
			return nil, usagef("image %s: %s has no container from repository %s; its repositories: %s",
				r.Repository, name, r.Repository, strings.Join(repos, ", "))
		}
	}
	return out, nil
}

// pickTag is the reference's tag if the policy accepts it, else the first
// of the image's other tags the policy accepts.
func pickTag(src manifest.Image, r Resolved) (string, bool) {
	p := src.Policy()
	if r.Tag != "" {
		return r.Tag, p.Match(r.Tag)
	}
	for _, t := range r.Tags {
		if p.Match(t) {
			return t, true
		}
	}
	return "", false
}
