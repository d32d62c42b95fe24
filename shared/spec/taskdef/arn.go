package taskdef

import (
	"strconv"
	"strings"
)

// SplitARN splits a task-definition ARN (or "family:revision") into its
// family and revision. The revision is -1 when the reference has none.
func SplitARN(arn string) (family string, revision int) {
	ref := arn[strings.LastIndex(arn, "/")+1:]
	family, rev, _ := strings.Cut(ref, ":")
	n, err := strconv.Atoi(rev)
	if err != nil {
		return family, -1
	}
	return family, n
}
