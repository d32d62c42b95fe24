// Package events holds the typed events Deckhand consumes from AWS (ECR image
// actions, ECS deployment and task state changes, the SQS wrapping of them)
// and the "Deckhand …" events it emits (DESIGN §6).
//
// Every event travels in the EventBridge envelope, [Envelope]. Decoding is
// strict about JSON syntax and types and reports the JSON path of the first
// offending value, so a malformed event can be rejected with a useful reason.
package events
