// Package taskdef renders task-definition templates (DESIGN §4).
//
// A template is a JSON document in the shape of RegisterTaskDefinition input
// (or of describe-task-definition output, whose output-only fields are
// stripped). Placeholders live only inside JSON string values, in Go
// template syntax: every string is parsed with text/template/parse, evaluated
// on its own by exec.go (text/template's semantics without its reflective
// method calls, which would keep every AWS SDK method in the Lambda
// binaries) and re-encoded, so no value can change the document's
// structure. The seeds' @@NAME@@ placeholders work too.
package taskdef

import (
	"fmt"
	"strings"
	"time"
)

// Image is a resolved container image.
type Image struct {
	Registry   string    // 123456789012.dkr.ecr.us-west-2.amazonaws.com
	Repository string    // web
	Tag        string    // 1.4.0 (metadata; the image is pinned by digest)
	Digest     string    // sha256:…
	PushedAt   time.Time // when the image was pushed (the high-water mark)
}

// URI returns the image pinned by digest: registry/repository@digest. It is
// an error to use an image that was not resolved, so a template naming a
// container Deckhand knows nothing about fails instead of rendering "".
func (i Image) URI() (string, error) {
	if i.Repository == "" || i.Digest == "" {
		return "", fmt.Errorf("no image resolved for this container")
	}
	return i.Registry + "/" + i.Repository + "@" + i.Digest, nil
}

// String is URI without the error, for logs.
func (i Image) String() string {
	u, err := i.URI()
	if err != nil {
		return "<unresolved>"
	}
	return u
}

// Registry returns the ECR registry host of an account and Region.
func Registry(account, region string) string {
	return account + ".dkr.ecr." + region + ".amazonaws.com"
}

// ParseImageURI splits registry/repository[:tag][@digest].
func ParseImageURI(uri string) Image {
	var img Image
	rest := uri
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		img.Digest = rest[at+1:]
		rest = rest[:at]
	}
	if slash := strings.Index(rest, "/"); slash >= 0 && strings.ContainsAny(rest[:slash], ".:") {
		img.Registry = rest[:slash]
		rest = rest[slash+1:]
	}
	if colon := strings.LastIndex(rest, ":"); colon >= 0 {
		img.Tag = rest[colon+1:]
		rest = rest[:colon]
	}
	img.Repository = rest
	return img
}

// Data is what a template sees.
type Data struct {
	Account string
	Region  string
	Cluster string
	Service string
	// Images maps container name to its image. Primary names the container
	// whose image .Image, .Tag, .Digest, .Repository and .Registry refer to.
	Images  map[string]Image
	Primary string
	Vars    map[string]string
	// Refs are the ARNs of the {{ ssm }} and {{ secret }} references the
	// caller resolved (References, then shared/aws/refs); a reference
	// absent from them is not found. Nil: nothing was resolved.
	Refs Refs
}

// view is the value templates execute against.
type view struct {
	Account, Region, Cluster, Service string
	Image, Tag, Digest                string
	Repository, Registry              string
	Images                            map[string]Image
	Vars                              map[string]string

	refs        Refs // resolved references (refs.go)
	offlineRefs bool // compute them instead (Options.OfflineRefs)
}

func (d Data) view() (view, error) {
	v := view{Account: d.Account, Region: d.Region, Cluster: d.Cluster, Service: d.Service, Images: d.Images, Vars: d.Vars, refs: d.Refs}
	if d.Primary != "" && len(d.Images) > 0 { // a job without images: has no primary image
		p, ok := d.Images[d.Primary]
		if !ok {
			return v, fmt.Errorf("primary container %q has no image", d.Primary)
		}
		uri, err := p.URI()
		if err != nil {
			return v, fmt.Errorf("primary container %q: %w", d.Primary, err)
		}
		v.Image, v.Tag, v.Digest, v.Repository, v.Registry = uri, p.Tag, p.Digest, p.Repository, p.Registry
	}
	return v, nil
}
