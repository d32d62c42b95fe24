package sandbox

import (
	"net/http"
	"slices"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

type imageQuery struct {
	RepositoryName string    `json:"repositoryName"`
	ImageIDs       []imageID `json:"imageIds"`
	NextToken      string    `json:"nextToken"`
	MaxResults     int       `json:"maxResults"`
	Filter         struct {
		TagStatus string `json:"tagStatus"`
	} `json:"filter"`
}

// lookup resolves an image id by digest and/or tag; both must agree.
func (r *repository) lookup(id imageID) (*image, string) {
	var im *image
	switch {
	case id.ImageDigest != "":
		im = r.byDigest(id.ImageDigest)
		if im != nil && id.ImageTag != "" && !slices.Contains(im.tags, id.ImageTag) {
			return nil, "ImageTagDoesNotMatchDigest"
		}
	case id.ImageTag != "":
		im = r.byTag(id.ImageTag)
	default:
		return nil, "MissingDigestAndTag"
	}
	if im == nil {
		return nil, "ImageNotFound"
	}
	return im, ""
}

func imageNotFound(r *repository, id imageID, account string) error {
	return awsproto.Errorf(http.StatusBadRequest, "ImageNotFoundException",
		"The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
		orNull(id.ImageDigest), orNull(id.ImageTag), r.name, account)
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// selectImages returns the images a query names, or all matching its tag
// filter.
func (e *ecrService) selectImages(r *repository, q imageQuery) ([]*image, error) {
	if len(q.ImageIDs) > 0 {
		var out []*image
		for _, id := range q.ImageIDs {
			im, _ := r.lookup(id)
			if im == nil {
				return nil, imageNotFound(r, id, e.account)
			}
			if !slices.Contains(out, im) {
				out = append(out, im)
			}
		}
		return out, nil
	}
	var out []*image
	for _, im := range r.images {
		switch q.Filter.TagStatus {
		case "TAGGED":
			if len(im.tags) == 0 {
				continue
			}
		case "UNTAGGED":
			if len(im.tags) > 0 {
				continue
			}
		case "", "ANY":
		default:
			return nil, awsproto.InvalidParameter("invalid tagStatus %q", q.Filter.TagStatus)
		}
		out = append(out, im)
	}
	return out, nil
}

func (e *ecrService) describeImages(body []byte) (any, []pendingEvent, error) {
	var q imageQuery
	if err := decodeInput(body, &q); err != nil {
		return nil, nil, err
	}
	r, err := e.repo(q.RepositoryName)
	if err != nil {
		return nil, nil, err
	}
	ims, err := e.selectImages(r, q)
	if err != nil {
		return nil, nil, err
	}
	page, next, err := paginate(ims, q.NextToken, q.MaxResults, 100, 1000)
	if err != nil {
		return nil, nil, err
	}
	details := []map[string]any{}
	for _, im := range page {
		d := map[string]any{
			"registryId":             e.account,
			"repositoryName":         r.name,
			"imageDigest":            im.digest,
			"imageSizeInBytes":       im.size,
			"imagePushedAt":          epochSeconds(im.pushedAt),
			"imageManifestMediaType": im.mediaType,
			"artifactMediaType":      im.artifact,
			"imageStatus":            "ACTIVE",
		}
		if len(im.tags) > 0 {
			d["imageTags"] = slices.Clone(im.tags)
		}
		e.scanSummary(im, d)
		details = append(details, d)
	}
	return map[string]any{"imageDetails": details, "nextToken": next}, nil, nil
}

func (e *ecrService) listImages(body []byte) (any, []pendingEvent, error) {
	var q imageQuery
	if err := decodeInput(body, &q); err != nil {
		return nil, nil, err
	}
	q.ImageIDs = nil
	r, err := e.repo(q.RepositoryName)
	if err != nil {
		return nil, nil, err
	}
	ims, err := e.selectImages(r, q)
	if err != nil {
		return nil, nil, err
	}
	var ids []imageID
	for _, im := range ims {
		if len(im.tags) == 0 {
			ids = append(ids, imageID{ImageDigest: im.digest})
		}
		for _, t := range im.tags {
			ids = append(ids, imageID{ImageDigest: im.digest, ImageTag: t})
		}
	}
	page, next, err := paginate(ids, q.NextToken, q.MaxResults, 100, 1000)
	if err != nil {
		return nil, nil, err
	}
	return map[string]any{"imageIds": nonNil(page), "nextToken": next}, nil, nil
}

type imageFailure struct {
	ImageID       imageID `json:"imageId"`
	FailureCode   string  `json:"failureCode"`
	FailureReason string  `json:"failureReason"`
}

func failureReason(code string) string {
	switch code {
	case "ImageTagDoesNotMatchDigest":
		return "Invalid image tag for image digest"
	case "MissingDigestAndTag":
		return "Missing image digest and image tag"
	}
	return "Requested image not found"
}

func (e *ecrService) batchGetImage(body []byte) (any, []pendingEvent, error) {
	var q imageQuery
	if err := decodeInput(body, &q); err != nil {
		return nil, nil, err
	}
	r, err := e.repo(q.RepositoryName)
	if err != nil {
		return nil, nil, err
	}
	images, failures := []map[string]any{}, []imageFailure{}
	for _, id := range q.ImageIDs {
		im, code := r.lookup(id)
		if im == nil {
			failures = append(failures, imageFailure{id, code, failureReason(code)})
			continue
		}
		if id.ImageDigest == "" {
			id.ImageDigest = im.digest
		}
		images = append(images, map[string]any{
			"registryId": e.account, "repositoryName": r.name, "imageId": id,
			"imageManifest": im.manifest, "imageManifestMediaType": im.mediaType,
		})
	}
	return map[string]any{"images": images, "failures": failures}, nil, nil
}

func (e *ecrService) batchDeleteImage(body []byte) (any, []pendingEvent, error) {
	var q imageQuery
	if err := decodeInput(body, &q); err != nil {
		return nil, nil, err
	}
	r, err := e.repo(q.RepositoryName)
	if err != nil {
		return nil, nil, err
	}
	deleted, failures := []imageID{}, []imageFailure{}
	var evs []pendingEvent
	for _, id := range q.ImageIDs {
		im, code := r.lookup(id)
		if im == nil {
			failures = append(failures, imageFailure{id, code, failureReason(code)})
			continue
		}
		if id.ImageDigest == "" && len(im.tags) > 1 {
			// Deleting one of several tags removes only the tag.
			im.tags = slices.DeleteFunc(im.tags, func(t string) bool { return t == id.ImageTag })
		} else {
			r.images = slices.DeleteFunc(r.images, func(x *image) bool { return x == im })
		}
		deleted = append(deleted, imageID{ImageDigest: im.digest, ImageTag: id.ImageTag})
		evs = append(evs, pendingEvent{detailType: events.DetailTypeImageAction, detail: events.ECRImageAction{
			Result: events.ResultSuccess, RepositoryName: r.name, ImageDigest: im.digest,
			ActionType: events.ActionDelete, ImageTag: id.ImageTag,
		}})
	}
	return map[string]any{"imageIds": deleted, "failures": failures}, evs, nil
}
