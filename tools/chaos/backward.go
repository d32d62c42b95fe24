package chaos

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
)

// noBackward checks invariant 2: along the UpdateService history, the
// pushed-at mark of each container never decreases (to the second; in one
// second, by the semver version order, else by ECR's precise push times).
func (c *checker) noBackward() Row {
	row := Row{Name: InvNoBackward}
	pushedAt := map[string]map[string]string{} // ARN → container → pushed-at
	imageTag := map[string]map[string]string{} // ARN → container → image tag
	digestOf := map[string]map[string]string{} // ARN → container → digest
	for _, s := range c.w.services {
		for _, td := range c.res.sb.ECS().TaskDefinitions(s.name) {
			m, tags, ds := map[string]string{}, map[string]string{}, map[string]string{}
			for k, v := range td.Tags {
				if cn, ok := strings.CutPrefix(k, revision.TagPushedAt); ok {
					m[cn] = v
				}
				if cn, ok := strings.CutPrefix(k, revision.TagImageTag); ok {
					tags[cn] = v
				}
				if cn, ok := strings.CutPrefix(k, revision.TagDigest); ok {
					ds[cn] = v
				}
			}
			pushedAt[td.ARN], imageTag[td.ARN], digestOf[td.ARN] = m, tags, ds
		}
	}
	// ECR's precise push times of the pushes made in one second (ties).
	precise := map[string]time.Time{}
	for _, in := range c.res.Inputs {
		if in.Kind == KindTie {
			precise[in.Digest] = in.PushedAt
		}
	}
	lastDigest := map[string]map[string]string{}
	// Every repository of the world has a semver:* policy; pushes in one
	// second are ordered by version, as the engine orders them.
	versions, _ := tagpolicy.Parse("semver:*")
	lastTag := map[string]map[string]string{}
	// A rollback (circuit breaker, alarm, hook or a stop request) moves a
	// service back without an UpdateService; the next update is compared
	// with what the service ran when it came (UpdateRecord.From, the
	// PRIMARY deployment's revision, which is what the engine reads), as
	// rule 5 compares with the running revision. (This once came from the
	// service's listed deployments; an update whose deployment was rolled
	// back, then pushed out of that bounded list by later deployments,
	// went unseen: progressive services, whose alarm rolls back every
	// deployment that starts while it fires, lose them within seconds.)
	lastTarget := map[string]string{} // service → the previous update's revision
	parse := func(arn string) map[string]time.Time {
		out := map[string]time.Time{}
		for cn, v := range pushedAt[arn] {
			if at, err := time.Parse(time.RFC3339Nano, v); err == nil && at.Before(futureTime) {
				out[cn] = at // a poisoned mark (2099) orders nothing
			}
		}
		return out
	}
	last := map[string]map[string]time.Time{}
	for _, u := range c.res.sb.ECS().UpdateHistory() {
		if u.Cluster != cluster {
			continue
		}
		row.Checked++
		if prev, ok := lastTarget[u.Service]; ok && u.From != prev {
			last[u.Service], lastTag[u.Service], lastDigest[u.Service] = parse(u.From), maps.Clone(imageTag[u.From]), maps.Clone(digestOf[u.From])
		}
		if lastTag[u.Service] == nil || lastDigest[u.Service] == nil {
			lastTag[u.Service], lastDigest[u.Service] = map[string]string{}, map[string]string{}
		}
		lastTarget[u.Service] = u.TaskDefinition
		if last[u.Service] == nil {
			last[u.Service], lastTag[u.Service], lastDigest[u.Service] = map[string]time.Time{}, map[string]string{}, map[string]string{}
		}
		for cn, v := range pushedAt[u.TaskDefinition] {
			at, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				row.Violations = append(row.Violations, fmt.Sprintf("%s: revision %s has pushed-at %q: %v", u.Service, u.TaskDefinition, v, err))
				continue
			}
			if !at.Before(futureTime) {
				// A mark poisoned by an event time in 2099 (trust.go's poison)
				// orders nothing.
				delete(last[u.Service], cn)
				continue
			}
			// Event times have whole seconds; in one second the policy's
			// version order, else ECR's precise times, order the pushes.
			tag, prevTag := imageTag[u.TaskDefinition][cn], lastTag[u.Service][cn]
			d, prevD := digestOf[u.TaskDefinition][cn], lastDigest[u.Service][cn]
			sec := at.Truncate(time.Second)
			pa, pok := precise[d]
			pb, pbok := precise[prevD]
			if prev, ok := last[u.Service][cn]; ok && sec.Before(prev.Truncate(time.Second)) {
				row.Violations = append(row.Violations, fmt.Sprintf("%s/%s moved from an image pushed %s to one pushed %s (%s)",
					u.Service, cn, prev.Format(time.RFC3339), at.Format(time.RFC3339), u.TaskDefinition))
			} else if ok && sec.Equal(prev.Truncate(time.Second)) && prevTag != "" && versions.Compare(tag, prevTag) < 0 {
				row.Violations = append(row.Violations, fmt.Sprintf("%s/%s moved from %s to the lower %s pushed in the same instant %s (%s)",
					u.Service, cn, prevTag, tag, at.Format(time.RFC3339), u.TaskDefinition))
			} else if ok && sec.Equal(prev.Truncate(time.Second)) && pok && pbok && pa.Before(pb) {
				row.Violations = append(row.Violations, fmt.Sprintf("%s/%s moved from %s to %s, which ECR says was pushed earlier in the same second %s (%s)",
					u.Service, cn, prevTag, tag, sec.Format(time.RFC3339), u.TaskDefinition))
			}
			lastDigest[u.Service][cn] = d
			last[u.Service][cn], lastTag[u.Service][cn] = at, tag
		}
	}
	return row
}
