package ecssim

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// sortedFamilies returns the family names in ascending order.
func (e *ECS) sortedFamilies() []string {
	names := make([]string, 0, len(e.families))
	for f := range e.families {
		names = append(names, f)
	}
	sort.Strings(names)
	return names
}

// listTaskDefinitions lists revision ARNs. As in ECS, familyPrefix selects one
// whole family, status defaults to ACTIVE and sort (ASC by family then
// revision) to ASC.
func (e *ECS) listTaskDefinitions(body []byte, _ time.Time) (any, error) {
	var in struct {
		FamilyPrefix string `json:"familyPrefix"`
		Status       string `json:"status"`
		Sort         string `json:"sort"`
		NextToken    string `json:"nextToken"`
		MaxResults   *int32 `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = "ACTIVE"
	}
	if in.Status != "ACTIVE" && in.Status != "INACTIVE" && in.Status != "DELETE_IN_PROGRESS" {
		return nil, awsproto.InvalidParameter("status must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS.")
	}
	if in.Sort != "" && in.Sort != "ASC" && in.Sort != "DESC" {
		return nil, awsproto.InvalidParameter("sort must be ASC or DESC.")
	}
	arns := []string{}
	for _, f := range e.sortedFamilies() {
		if in.FamilyPrefix != "" && f != in.FamilyPrefix {
			continue
		}
		for _, td := range e.families[f] {
			if td.status == in.Status {
				arns = append(arns, td.arn)
			}
		}
	}
	if in.Sort == "DESC" {
		slices.Reverse(arns)
	}
	pg, next, err := page(arns, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		TaskDefinitionArns []string `json:"taskDefinitionArns"`
		NextToken          *string  `json:"nextToken,omitempty"`
	}{append([]string{}, pg...), next}, nil
}

// listTaskDefinitionFamilies lists family names starting with familyPrefix.
// status ACTIVE keeps families with an ACTIVE revision, INACTIVE those with
// none; the default is ALL.
func (e *ECS) listTaskDefinitionFamilies(body []byte, _ time.Time) (any, error) {
	var in struct {
		FamilyPrefix string `json:"familyPrefix"`
		Status       string `json:"status"`
		NextToken    string `json:"nextToken"`
		MaxResults   *int32 `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = "ALL"
	}
	if in.Status != "ACTIVE" && in.Status != "INACTIVE" && in.Status != "ALL" {
		return nil, awsproto.InvalidParameter("status must be ACTIVE, INACTIVE or ALL.")
	}
	names := []string{}
	for _, f := range e.sortedFamilies() {
		if !strings.HasPrefix(f, in.FamilyPrefix) {
			continue
		}
		if !slices.ContainsFunc(e.families[f], func(td *taskDef) bool { return td.status != statusDeleted }) {
			continue // every revision deleted: the family is gone
		}
		active := slices.ContainsFunc(e.families[f], func(td *taskDef) bool { return td.status == "ACTIVE" })
		if (in.Status == "ACTIVE" && !active) || (in.Status == "INACTIVE" && active) {
			continue
		}
		names = append(names, f)
	}
	pg, next, err := page(names, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		Families  []string `json:"families"`
		NextToken *string  `json:"nextToken,omitempty"`
	}{append([]string{}, pg...), next}, nil
}
