package socialcare

import (
	"bytes"
	_ "embed"
)

//go:embed schema/record.schema.json
var schemaJSON []byte

// SchemaURL is the $id of the record format's JSON Schema.
const SchemaURL = Base + "/schema/social-care-record/" + SchemaVersion

// Schema returns the JSON Schema (draft 2020-12) of [Record]. The gateway
// serves it at a stable URL. The caller gets its own copy.
func Schema() []byte { return bytes.Clone(schemaJSON) }
