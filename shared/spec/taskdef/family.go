package taskdef

import (
	"errors"
	"fmt"
)

// Family renders only a template's family: the family its definitions are
// registered in, as Render would name it, without the rest of the
// template. The deploy engine names a binding's family this way before it
// has everything Render needs (the running revision's other images), so
// that it can read the family's latest revision at once. data may lack
// images; a family that names a missing one is an error. Family does not
// validate the rest of the template, nor the family's own syntax: it is a
// guess Render's result confirms.
func Family(tmpl []byte, data Data) (string, error) {
	if len(tmpl) > MaxTemplateSize {
		return "", &sizeError{fmt.Sprintf("the template is %d bytes; Deckhand reads templates of at most %d", len(tmpl), MaxTemplateSize)}
	}
	doc, err := decodeTemplate(tmpl)
	if err != nil {
		return "", err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return "", errors.New("a template must be a JSON object")
	}
	if inner, ok := obj["taskDefinition"].(map[string]any); ok {
		obj = inner // the describe-task-definition wrapper
	}
	raw, ok := obj["family"].(string)
	if !ok {
		return "", errors.New("$.family: not a string")
	}
	v, err := data.view()
	if err != nil {
		return "", err
	}
	r := &renderer{view: v, budget: newBudget(), data: data}
	res, err := r.renderString(raw)
	if err != nil {
		return "", fmt.Errorf("$.family: %w", err)
	}
	family, ok := res.(string)
	if !ok || family == "" {
		return "", fmt.Errorf("$.family: renders to %v, not a name", res)
	}
	return family, nil
}
