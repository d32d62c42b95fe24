// Package size summarises what a Go binary's bytes are: `go tool nm -size`
// of an unstripped build, grouped by module (the dependency that brought
// the code in).
package size

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// Share is one module's symbol bytes.
type Share struct {
	Module string
	Bytes  int64
}

// ByModule runs `go tool nm -size -sort size` on bin (built without -s) and
// sums symbol sizes by module, largest first.
func ByModule(ctx context.Context, bin string) ([]Share, int64, error) {
	out, err := exec.CommandContext(ctx, "go", "tool", "nm", "-size", "-sort", "size", bin).Output()
	if err != nil {
		return nil, 0, fmt.Errorf("go tool nm %s: %w", bin, err)
	}
	return Summarise(out)
}

// bssLike is a size no symbol in the file has: larger "data" symbols
// (crypto/internal/fips140/drbg.memory, 32 MiB) are zero-filled at run time.
const bssLike = 8 << 20

// Summarise parses nm -size output: "addr size type name" per line. It
// counts code, read-only data and data symbols (T, R, D), not BSS.
func Summarise(nm []byte) ([]Share, int64, error) {
	sums := map[string]int64{}
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(nm))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || !strings.Contains("TtRrDd", f[2]) || n >= bssLike {
			continue
		}
		name := strings.Join(f[3:], " ")
		sums[Module(name)] += n
		total += n
	}
	out := make([]Share, 0, len(sums))
	for m, n := range sums {
		out = append(out, Share{m, n})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Bytes > out[j].Bytes || out[i].Bytes == out[j].Bytes && out[i].Module < out[j].Module
	})
	return out, total, sc.Err()
}

// Module names the module or group a symbol belongs to: the AWS SDK's
// service clients separately, other github.com/golang.org paths by their
// first three elements, the standard library as "std", runtime data as
// "runtime (data, pclntab, types)".
func Module(sym string) string {
	sym = strings.TrimPrefix(sym, "type:")
	sym = strings.TrimPrefix(sym, "go:")
	for _, p := range []string{".eq.", "itab.", "go:itab.", "type:"} {
		sym = strings.TrimPrefix(sym, p)
	}
	sym = strings.TrimLeft(sym, "*[]0123456789")
	if rest, ok := strings.CutPrefix(sym, "gopkg.in/"); ok {
		if i := strings.Index(rest, ".v"); i >= 0 {
			end := i + 2
			for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
				end++
			}
			return "gopkg.in/" + rest[:end]
		}
	}
	pkg := sym
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		if j := strings.Index(pkg[i:], "."); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.Index(pkg, "."); j >= 0 {
		pkg = pkg[:j]
	}
	parts := strings.Split(pkg, "/")
	switch {
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/") && len(parts) >= 5:
		return strings.Join(parts[:5], "/")
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/internal/") && len(parts) >= 5:
		return strings.Join(parts[:5], "/")
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2"):
		return "github.com/aws/aws-sdk-go-v2 (core)"
	case strings.HasPrefix(pkg, "github.com/deckhand-ecs/deckhand/") && len(parts) >= 4:
		return strings.Join(parts[:4], "/")
	case len(parts) >= 3 && strings.Contains(parts[0], "."):
		return strings.Join(parts[:3], "/")
	case strings.Contains(parts[0], "."):
		return parts[0]
	case pkg == "" || strings.HasPrefix(sym, "func.") || strings.HasPrefix(sym, "runtime.") || pkg == "runtime" || !strings.Contains(sym, "."):
		return "runtime (data, pclntab, types)"
	}
	return "std"
}
