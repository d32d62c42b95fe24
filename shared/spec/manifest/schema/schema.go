// Package schema generates the JSON Schema of deckhand.yaml from the
// manifest package's Go types. It lives apart from the manifest package so
// the Lambda functions do not link the schema generator.
package schema

import (
	"encoding/json"

	"github.com/invopop/jsonschema"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// ID is the $id of the published JSON Schema.
const ID = "https://deckhand.dev/schema/deckhand.schema.json"

// Generate returns the JSON Schema of deckhand.yaml, generated from the Go
// types so the two cannot drift. Editors use it for completion through
// `# yaml-language-server: $schema=…` or their schema settings.
func Generate() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: false,
		DoNotReference:             false,
		AllowAdditionalProperties:  false,
	}
	s := r.Reflect(&manifest.Manifest{})
	s.ID = ID
	s.Title = "Deckhand manifest (deckhand.yaml)"
	return json.MarshalIndent(s, "", "  ")
}
