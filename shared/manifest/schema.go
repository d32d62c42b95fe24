package manifest

import (
	"encoding/json"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the published JSON Schema.
const SchemaID = "https://deckhand.dev/schema/deckhand.schema.json"

// Schema returns the JSON Schema of deckhand.yaml, generated from the Go
// types so the two cannot drift. Editors use it for completion through
// `# yaml-language-server: $schema=…` or their schema settings.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: false,
		DoNotReference:             false,
		AllowAdditionalProperties:  false,
	}
	s := r.Reflect(&Manifest{})
	s.ID = SchemaID
	s.Title = "Deckhand manifest (deckhand.yaml)"
	return json.MarshalIndent(s, "", "  ")
}
