package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// Default media types, as a docker push of a v2 manifest reports them.
const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
)

type imageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

// manifestInfo reads the media types and size a manifest declares.
func manifestInfo(manifest string) (mediaType, artifact string, size int64) {
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			MediaType string `json:"mediaType"`
			Size      int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			Size int64 `json:"size"`
		} `json:"layers"`
	}
	_ = json.Unmarshal([]byte(manifest), &m)
	mediaType, artifact, size = m.MediaType, m.Config.MediaType, m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	if mediaType == "" {
		mediaType = mediaTypeDockerManifest
	}
	if artifact == "" {
		artifact = mediaTypeDockerConfig
	}
	return mediaType, artifact, size + int64(len(manifest))
}

type putImageInput struct {
	RepositoryName         string `json:"repositoryName"`
	ImageManifest          string `json:"imageManifest"`
	ImageManifestMediaType string `json:"imageManifestMediaType"`
	ImageTag               string `json:"imageTag"`
	ImageDigest            string `json:"imageDigest"`
}

func (e *ecrService) putImage(body []byte) (any, []pendingEvent, error) {
	var in putImageInput
	if err := decodeInput(body, &in); err != nil {
		return nil, nil, err
	}
	r, err := e.repo(in.RepositoryName)
	if err != nil {
		return nil, nil, err
	}
	return e.put(r, in)
}

// put stores a manifest under an optional tag. Callers hold mu.
func (e *ecrService) put(r *repository, in putImageInput) (any, []pendingEvent, error) {
	if in.ImageManifest == "" {
		return nil, nil, awsproto.InvalidParameter("imageManifest is required")
	}
	sum := sha256.Sum256([]byte(in.ImageManifest))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if in.ImageDigest != "" && in.ImageDigest != digest {
		return nil, nil, awsproto.Errorf(http.StatusBadRequest, "ImageDigestDoesNotMatchException",
			"Invalid parameter at 'imageDigest' failed to satisfy constraint: 'digest does not match the manifest'")
	}
	im := r.byDigest(digest)
	if im != nil && (in.ImageTag == "" || slices.Contains(im.tags, in.ImageTag)) {
		return nil, nil, awsproto.Errorf(http.StatusBadRequest, "ImageAlreadyExistsException",
			"Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'",
			digest, in.ImageTag, r.name, e.account)
	}
	mediaType, artifact, size := manifestInfo(in.ImageManifest)
	if in.ImageManifestMediaType != "" {
		mediaType = in.ImageManifestMediaType
	}
	if in.ImageTag != "" {
		if old := r.byTag(in.ImageTag); old != nil {
			old.tags = slices.DeleteFunc(old.tags, func(t string) bool { return t == in.ImageTag })
		}
	}
	if im == nil {
		im = &image{digest: digest, manifest: in.ImageManifest, mediaType: mediaType, artifact: artifact,
			size: size, pushedAt: e.s.clock.Now()}
		r.images = append(r.images, im)
	}
	if in.ImageTag != "" {
		im.tags = append(im.tags, in.ImageTag)
	}
	out := map[string]any{"image": map[string]any{
		"registryId":             e.account,
		"repositoryName":         r.name,
		"imageId":                imageID{ImageDigest: digest, ImageTag: in.ImageTag},
		"imageManifest":          im.manifest,
		"imageManifestMediaType": im.mediaType,
	}}
	ev := pendingEvent{detailType: events.DetailTypeImageAction, detail: events.ECRImageAction{
		Result: events.ResultSuccess, RepositoryName: r.name, ImageDigest: digest,
		ActionType: events.ActionPush, ImageTag: in.ImageTag,
		ManifestMediaType: im.mediaType, ArtifactMediaType: im.artifact,
	}}
	e.scanOnPush(r, im)
	return out, []pendingEvent{ev}, nil
}

// PushImage pushes a freshly synthesised, unique manifest to repository
// under tag ("" pushes it untagged), creating the repository if needed. It
// behaves exactly like PutImage, including the ECR Image Action event, and
// returns the image digest.
func (s *Sandbox) PushImage(repository, tag string) (digest string) {
	return s.pushImage(repository, tag, false)
}

// PushImageSilently is PushImage without the EventBridge event: the push is
// in ECR but no ECR Image Action reaches the bus, as when EventBridge drops
// an event. Use it to test the reconciler's missed-push catch-up.
func (s *Sandbox) PushImageSilently(repository, tag string) (digest string) {
	return s.pushImage(repository, tag, true)
}

func (s *Sandbox) pushImage(repository, tag string, silent bool) string {
	return s.ecr.pushSynthetic(repository, tag, silent)
}

// pushSynthetic pushes a unique synthesised manifest, creating the
// repository if needed, and returns its digest.
func (e *ecrService) pushSynthetic(repository, tag string, silent bool) string {
	e.mu.Lock()
	e.seq++
	cfg := sha256.Sum256(fmt.Appendf(nil, "%s:%s:%d", repository, tag, e.seq))
	if e.account != e.s.opts.Account || e.region != e.s.opts.Region {
		// Another registry's images differ from the home registry's.
		cfg = sha256.Sum256(fmt.Appendf(nil, "%s/%s/%s:%s:%d", e.account, e.region, repository, tag, e.seq))
	}
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"size":1469,"digest":"sha256:%x"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3370628,"digest":"sha256:%x"}]}`,
		mediaTypeDockerManifest, mediaTypeDockerConfig, cfg, sha256.Sum256(cfg[:]))
	out, evs, err := e.put(e.ensureRepo(repository), putImageInput{ImageManifest: manifest, ImageTag: tag})
	e.mu.Unlock()
	if err != nil {
		panic(fmt.Sprintf("sandbox: push synthesised image: %v", err)) // unique manifests cannot collide
	}
	if !silent {
		e.publish(evs)
	}
	return out.(map[string]any)["image"].(map[string]any)["imageId"].(imageID).ImageDigest
}
