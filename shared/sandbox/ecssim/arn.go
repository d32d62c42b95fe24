package ecssim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// arn builds an ECS ARN for resource, e.g. "cluster/prod".
func (e *ECS) arn(resource string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s", e.region, e.account, resource)
}

// resourcePath returns the resource part of an ECS ARN ("service/prod/web")
// and whether s is an ECS ARN at all.
func resourcePath(s string) (string, bool) {
	if !strings.HasPrefix(s, "arn:") {
		return "", false
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[2] != "ecs" {
		return "", false
	}
	return parts[5], true
}

// nextID returns the next value of the emulator's counter.
func (e *ECS) nextID() uint64 {
	e.seq++
	return e.seq
}

// hexID returns a deterministic 32-hex-digit id, shaped like ECS task ids.
func (e *ECS) hexID(kind string) string {
	sum := sha256.Sum256([]byte(kind + "/" + strconv.FormatUint(e.nextID(), 10)))
	return hex.EncodeToString(sum[:16])
}

// uuid returns a deterministic UUID-shaped id.
func (e *ECS) uuid(kind string) string {
	h := e.hexID(kind)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// deploymentID returns a new "ecs-svc/" + 19 digits id.
func (e *ECS) deploymentID() string {
	return fmt.Sprintf("ecs-svc/%019d", uint64(4_000_000_000_000_000_000)+e.idBase+e.nextID())
}

// epoch is a timestamp on the wire: epoch seconds as a JSON number.
type epoch float64

func toEpoch(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	v := epoch(float64(t.UnixNano()) / 1e9)
	return &v
}

// clusterRef resolves a cluster name or ARN (empty means "default") to an
// ACTIVE cluster.
func (e *ECS) clusterRef(ref string) (*cluster, error) {
	name := ref
	if name == "" {
		name = "default"
	}
	if p, ok := resourcePath(ref); ok {
		name = strings.TrimPrefix(p, "cluster/")
	}
	c, ok := e.clusters[name]
	if !ok || c.status != "ACTIVE" {
		return nil, clusterNotFound()
	}
	return c, nil
}

func clusterNotFound() error {
	return awsproto.Errorf(400, "ClusterNotFoundException", "Cluster not found.")
}

// serviceName extracts the service name from a name or a service ARN in the
// long ("service/<cluster>/<name>") or short ("service/<name>") format.
func serviceName(ref string) string {
	p, ok := resourcePath(ref)
	if !ok {
		return ref
	}
	return p[strings.LastIndex(p, "/")+1:]
}

// taskID extracts the task id from a task ARN or returns ref unchanged.
func taskID(ref string) string {
	p, ok := resourcePath(ref)
	if !ok {
		return ref
	}
	return p[strings.LastIndex(p, "/")+1:]
}

// page returns the slice of items selected by nextToken and maxResults and
// the token of the next page. Tokens are opaque offsets.
func page[T any](items []T, nextToken string, maxResults *int32, def, limit int) ([]T, *string, error) {
	start := 0
	if nextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(nextToken, "ecssim-"))
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, awsproto.InvalidParameter("Invalid nextToken.")
		}
		start = n
	}
	size := def
	if maxResults != nil {
		if *maxResults < 1 || int(*maxResults) > limit {
			return nil, nil, awsproto.InvalidParameter("maxResults must be between 1 and %d.", limit)
		}
		size = int(*maxResults)
	}
	end := min(start+size, len(items))
	var next *string
	if end < len(items) {
		s := "ecssim-" + strconv.Itoa(end)
		next = &s
	}
	return items[start:end], next, nil
}
