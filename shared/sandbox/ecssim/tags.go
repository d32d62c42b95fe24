package ecssim

import (
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// checkTags applies ECS's tag limits.
func checkTags(tags []tag) error {
	if len(tags) > 50 {
		return awsproto.InvalidParameter("A resource can have at most 50 tags.")
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 {
			return awsproto.InvalidParameter("Tag keys must be between 1 and 128 characters.")
		}
		if len(t.Value) > 256 {
			return awsproto.InvalidParameter("Tag values must be at most 256 characters.")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return awsproto.InvalidParameter("Tag keys may not start with the reserved prefix 'aws:'.")
		}
	}
	return nil
}

// addTags merges tags into the resource's tags; an existing key is
// overwritten in place.
func (e *ECS) addTags(arn string, tags []tag) {
	cur := e.tags[arn]
	for _, t := range tags {
		replaced := false
		for i := range cur {
			if cur[i].Key == t.Key {
				cur[i].Value = t.Value
				replaced = true
			}
		}
		if !replaced {
			cur = append(cur, t)
		}
	}
	if len(cur) > 0 {
		e.tags[arn] = cur
	}
}

// tagsOf returns a copy of the resource's tags, never nil.
func (e *ECS) tagsOf(arn string) []tag {
	return append([]tag{}, e.tags[arn]...)
}

// resourceExists reports whether arn names an existing taggable resource.
func (e *ECS) resourceExists(arn string) (bool, error) {
	p, ok := resourcePath(arn)
	if !ok {
		return false, awsproto.InvalidParameter("The ARN %q is not a valid ECS resource ARN.", arn)
	}
	kind, rest, _ := strings.Cut(p, "/")
	switch kind {
	case "cluster":
		c, ok := e.clusters[rest]
		return ok && c.arn == arn, nil
	case "service":
		for _, s := range e.services {
			if s.arn == arn && s.status != "INACTIVE" {
				return true, nil
			}
		}
		return false, nil
	case "task-definition":
		_, err := e.taskDefRef(arn)
		return err == nil, nil
	case "task":
		_, ok := e.tasks[arn]
		return ok, nil
	}
	return false, awsproto.InvalidParameter("The ARN %q is not a taggable ECS resource.", arn)
}

func (e *ECS) taggable(arn string) error {
	ok, err := e.resourceExists(arn)
	if err != nil {
		return err
	}
	if !ok {
		return awsproto.Errorf(400, "ResourceNotFoundException", "The specified resource could not be found.")
	}
	return nil
}

func (e *ECS) tagResource(body []byte, _ time.Time) (any, error) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
		Tags        []tag  `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := e.taggable(in.ResourceArn); err != nil {
		return nil, err
	}
	if err := checkTags(append(e.tagsOf(in.ResourceArn), in.Tags...)); err != nil {
		return nil, err
	}
	e.addTags(in.ResourceArn, in.Tags)
	return struct{}{}, nil
}

func (e *ECS) untagResource(body []byte, _ time.Time) (any, error) {
	var in struct {
		ResourceArn string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := e.taggable(in.ResourceArn); err != nil {
		return nil, err
	}
	var kept []tag
	for _, t := range e.tags[in.ResourceArn] {
		drop := false
		for _, k := range in.TagKeys {
			drop = drop || t.Key == k
		}
		if !drop {
			kept = append(kept, t)
		}
	}
	e.tags[in.ResourceArn] = kept
	return struct{}{}, nil
}

func (e *ECS) listTagsForResource(body []byte, _ time.Time) (any, error) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := e.taggable(in.ResourceArn); err != nil {
		return nil, err
	}
	return struct {
		Tags []tag `json:"tags"`
	}{e.tagsOf(in.ResourceArn)}, nil
}
