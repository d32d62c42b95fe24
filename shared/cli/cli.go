// Package cli is the logic behind the deckhand CLI: validate, render, diff,
// deploy (and following a rollout to its verdict), rollback, hold and
// release, status, history and one-off job runs. Commands in cmd/deckhand
// only parse flags and print what these functions return, so the same
// operations are callable from Go (tests, the demo, benchmarks).
//
// Everything here runs the same engines the Lambda functions run
// (shared/engine/deploy, shared/engine/jobs, built by shared/wire); cli adds
// only what a person at a terminal needs on top: image resolution from a
// flag, a dry run, waiting for a verdict and reading state back from ECS.
package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/deckhand-ecs/deckhand/shared/aws/alarms"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// ECSAPI is the part of the ECS client the operations use: what the engines
// use (wire.ECS) and what the CLI reads and tags on its own.
type ECSAPI interface {
	wire.ECS
	DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, optFns ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	// StopServiceDeployment rolls back a deployment in flight (rollback).
	StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error)
	UntagResource(ctx context.Context, in *ecs.UntagResourceInput, optFns ...func(*ecs.Options)) (*ecs.UntagResourceOutput, error)
}

// ECRAPI is the part of the ECR client the operations use.
type ECRAPI interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
	DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
}

// EventsAPI puts Deckhand's events on the bus.
type EventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var (
	_ ECSAPI    = (*ecs.Client)(nil)
	_ ECRAPI    = (*ecr.Client)(nil)
	_ EventsAPI = (*eventbridge.Client)(nil)
)

// Env is what the online operations run against. Build it once per command.
type Env struct {
	ECS    ECSAPI
	ECR    ECRAPI
	Events EventsAPI // nil: emit nothing
	// Alarms is CloudWatch (nil: deployment alarms are neither shown nor
	// checked).
	Alarms alarms.API
	// STS tells who approves or rejects (nil: approve and reject refuse).
	STS STSAPI
	// EventBus is the bus Deckhand's events go to (default "default").
	EventBus string
	Source   store.Source
	// Refs resolves templates' {{ ssm }} and {{ secret }} references for
	// deploy, diff, run and render --resolve (nil: such templates fail to
	// render online).
	Refs    taskdef.Resolver
	Account string
	Region  string
	Logger  *slog.Logger
	// Clock is the time source for waiting (default: real time).
	Clock Clock
	// Poll is the interval between polls while waiting (default 5s; against
	// the sandbox each poll advances its clock by Poll).
	Poll time.Duration
}

func (e *Env) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Env) clock() Clock {
	if e.Clock != nil {
		return e.Clock
	}
	return RealClock{}
}

func (e *Env) poll() time.Duration {
	if e.Poll > 0 {
		return e.Poll
	}
	return 5 * time.Second
}

// manifest loads the manifest from the source.
func (e *Env) manifest(ctx context.Context) (*manifest.Manifest, error) {
	m, err := e.Source.Manifest(ctx)
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	return m, nil
}

// ErrNotFound is matched by errors.Is for a binding, job, revision or AWS
// resource that does not exist; the CLI exits 3 on it.
var ErrNotFound = errors.New("not found")

// NotFoundError names what was not found and what exists instead.
type NotFoundError struct {
	Kind  string   // "binding", "job", "revision", "service"
	Name  string   //
	Known []string // the names that do exist, for the hint
	Hint  string   // what to do next, when Known does not say it
	// KnownLabel names the known things (default Kind + "s").
	KnownLabel string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("%s %q not found", e.Kind, e.Name)
	label := e.KnownLabel
	if label == "" {
		label = e.Kind + "s"
	}
	switch {
	case len(e.Known) > 0:
		msg += fmt.Sprintf("; known %s: %s", label, strings.Join(e.Known, ", "))
	case e.Hint == "":
		msg += fmt.Sprintf("; the manifest has no %s", label)
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrUsage is matched by errors.Is for a request that cannot be run as
// given (a bad flag value); the CLI exits 2 on it.
var ErrUsage = errors.New("usage")

// UsageError is a bad argument, with what to write instead.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string           { return e.Msg }
func (e *UsageError) Is(target error) bool    { return target == ErrUsage }
func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// Binding returns a service binding of the manifest or a NotFoundError that
// lists the known ones.
func Binding(m *manifest.Manifest, name string) (*manifest.Service, error) {
	if b, ok := m.Service(name); ok {
		return b, nil
	}
	var known []string
	for _, s := range m.Services {
		known = append(known, s.Name)
	}
	err := &NotFoundError{Kind: "binding", Name: name, Known: known}
	if _, ok := m.Job(name); ok {
		err.Hint = fmt.Sprintf("%s is a job: use `deckhand run %s`", name, name)
	}
	return nil, err
}

// Job returns a job of the manifest or a NotFoundError that lists the known
// ones.
func Job(m *manifest.Manifest, name string) (*manifest.Job, error) {
	if j, ok := m.Job(name); ok {
		return j, nil
	}
	var known []string
	for _, j := range m.Jobs {
		known = append(known, j.Name)
	}
	err := &NotFoundError{Kind: "job", Name: name, Known: known}
	if _, ok := m.Service(name); ok {
		err.Hint = fmt.Sprintf("%s is a service binding: use `deckhand deploy %s`", name, name)
	}
	return nil, err
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// parseImage splits an image reference.
func parseImage(uri string) taskdef.Image { return taskdef.ParseImageURI(uri) }
