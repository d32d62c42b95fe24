package taskdef

import (
	"fmt"
	"strings"
)

// pinBoundImages sets the image of every container bound in images: to the
// image Deckhand resolved for it, pinned by digest, whatever the template
// wrote there: a placeholder, a tag, or the literal image of a
// describe-task-definition output (DESIGN §4). So a described definition
// works as a template unchanged, and what deploy, run, render and diff show
// is what runs. Containers that are not bound keep the template's image.
// doc is a rendered document that passed checkShape.
func pinBoundImages(doc any, images map[string]Image) *Error {
	obj, _ := doc.(map[string]any)
	defs, _ := obj[fieldKey(obj, "containerDefinitions")].([]any)
	for i, d := range defs {
		c, _ := d.(map[string]any)
		name, _ := c[fieldKey(c, "name")].(string)
		img, bound := images[name]
		if !bound {
			continue
		}
		uri, err := img.URI()
		if err != nil {
			return &Error{Path: fmt.Sprintf("$.containerDefinitions[%d].image", i), Err: fmt.Errorf("container %q is bound in images: but %w", name, err)}
		}
		delete(c, fieldKey(c, "image"))
		c["image"] = uri
	}
	return nil
}

// fieldKey is the key of obj that names field, matched without case as
// encoding/json matches it into the SDK's input; field itself if none does.
func fieldKey(obj map[string]any, field string) string {
	for k := range obj {
		if strings.EqualFold(k, field) {
			return k
		}
	}
	return field
}
