package sandbox

import (
	"fmt"
	"net/http"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// Smithy RPC v2 CBOR, the protocol the Go SDK v2 speaks to CloudWatch.

// writeCBORError writes an error in the RPC v2 CBOR protocol.
func writeCBORError(w http.ResponseWriter, e *awsproto.Error) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", cborType)
	w.WriteHeader(e.Status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(e.Code), "message": cbor.String(e.Message)}))
}

// decodeCBOR decodes an RPC v2 CBOR request body into a tree.
func decodeCBOR(body []byte) (map[string]any, error) {
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, err
	}
	m, ok := fromCBOR(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the request body is not a CBOR map")
	}
	return m, nil
}

func fromCBOR(v cbor.Value) any {
	switch v := v.(type) {
	case cbor.Map:
		out := map[string]any{}
		for k, e := range v {
			out[k] = fromCBOR(e)
		}
		return out
	case cbor.List:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = fromCBOR(e)
		}
		return out
	case cbor.String:
		return string(v)
	case cbor.Uint:
		return float64(v)
	case cbor.NegInt:
		return -float64(v)
	case cbor.Float32:
		return float64(v)
	case cbor.Float64:
		return float64(v)
	case cbor.Bool:
		return bool(v)
	case *cbor.Tag:
		return fromCBOR(v.Value)
	case cbor.Tag:
		return fromCBOR(v.Value)
	}
	return nil
}

// cborValue encodes an output tree; timestamps are tag 1 epoch seconds.
func cborValue(v any) cbor.Value {
	switch v := v.(type) {
	case map[string]any:
		m := cbor.Map{}
		for k, e := range v {
			m[k] = cborValue(e)
		}
		return m
	case []any:
		l := make(cbor.List, len(v))
		for i, e := range v {
			l[i] = cborValue(e)
		}
		return l
	case string:
		return cbor.String(v)
	case bool:
		return cbor.Bool(v)
	case int:
		if v < 0 {
			return cbor.NegInt(-v)
		}
		return cbor.Uint(v)
	case float64:
		return cbor.Float64(v)
	case time.Time:
		return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(v.UnixMilli()) / 1000)}
	}
	return &cbor.Nil{}
}
