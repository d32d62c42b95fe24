package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Functions are Deckhand's Lambda functions, in the order they are built.
var Functions = []string{"deployer", "runner", "tracker", "reconciler"}

// ManifestKey is the S3 key the manifest is uploaded to and the functions
// read (DECKHAND_MANIFEST_KEY, DESIGN §7).
const ManifestKey = "deckhand.yaml"

// Context keys, with their defaults in cdk.json (docs/cdk.md lists them).
const (
	ctxManifest          = "deckhand:manifest"
	ctxDist              = "deckhand:dist"
	ctxEventBus          = "deckhand:eventBus"
	ctxReconcileSchedule = "deckhand:reconcileSchedule"
	ctxLogRetentionDays  = "deckhand:logRetentionDays"
	ctxAlarmEmail        = "deckhand:alarmEmail"
	ctxHubAccount        = "deckhand:hubAccount"
	ctxHubRegion         = "deckhand:hubRegion"
	ctxExternalID        = "deckhand:externalId"
)

// Config is what the stack is built from. main reads it from CDK context;
// tests fill it in directly.
type Config struct {
	// ManifestPath is the deckhand.yaml to read. Template keys in it are
	// resolved relative to its directory.
	ManifestPath string
	// DistDir holds <fn>/bootstrap for every function (`make build`).
	DistDir string
	// EventBus is the bus Deckhand puts its events on (DECKHAND_EVENT_BUS).
	EventBus string
	// ReconcileSchedule is the reconciler's Scheduler expression.
	ReconcileSchedule string
	// LogRetentionDays applies to every log group the stack creates.
	LogRetentionDays int
	// AlarmEmail, when set, subscribes an address to the alarm topic.
	AlarmEmail string
	// HubAccount and HubRegion are where the hub stack is deployed. They
	// are required when the manifest has targets: the target stacks, in
	// other accounts, name the hub's function roles and event bus.
	HubAccount, HubRegion string
	// ExternalID is the sts:ExternalId the functions pass when they assume
	// a target's role; default deckhand-<hub account>-<hub Region>.
	ExternalID string
}

// Defaults for context keys that are absent.
const (
	defaultManifest          = "examples/deckhand.yaml"
	defaultDist              = "dist"
	defaultEventBus          = "default"
	defaultReconcileSchedule = "rate(5 minutes)"
	defaultLogRetentionDays  = 30
)

// ConfigFromContext reads the Config from the app's context.
func ConfigFromContext(app awscdk.App) (Config, error) {
	get := func(key, def string) string {
		v := app.Node().TryGetContext(&key)
		if v == nil {
			return def
		}
		s := strings.TrimSpace(fmt.Sprint(v))
		if s == "" {
			return def
		}
		return s
	}
	cfg := Config{
		ManifestPath:      get(ctxManifest, defaultManifest),
		DistDir:           get(ctxDist, defaultDist),
		EventBus:          get(ctxEventBus, defaultEventBus),
		ReconcileSchedule: get(ctxReconcileSchedule, defaultReconcileSchedule),
		AlarmEmail:        get(ctxAlarmEmail, ""),
		HubAccount:        get(ctxHubAccount, ""),
		HubRegion:         get(ctxHubRegion, ""),
		ExternalID:        get(ctxExternalID, ""),
	}
	days, err := strconv.Atoi(get(ctxLogRetentionDays, strconv.Itoa(defaultLogRetentionDays)))
	if err != nil {
		return cfg, fmt.Errorf("context %s: %w", ctxLogRetentionDays, err)
	}
	cfg.LogRetentionDays = days
	return cfg, nil
}

// ErrMissingBootstrap is matched by errors.Is when a function's binary has
// not been built.
var ErrMissingBootstrap = errors.New("function binary missing: run `make build` first")

// Validate checks what the stack needs from the file system and the values
// that CloudFormation would only reject at deploy time. It reports every
// problem at once.
func (c Config) Validate() error {
	var errs []error
	for _, fn := range Functions {
		p := filepath.Join(c.DistDir, fn, "bootstrap")
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			errs = append(errs, fmt.Errorf("%s: %w", p, ErrMissingBootstrap))
		}
	}
	if c.EventBus == "" {
		errs = append(errs, errors.New("context "+ctxEventBus+": empty bus name"))
	}
	if !strings.HasPrefix(c.ReconcileSchedule, "rate(") && !strings.HasPrefix(c.ReconcileSchedule, "cron(") {
		errs = append(errs, fmt.Errorf("context %s: %q is not a rate(...) or cron(...) expression", ctxReconcileSchedule, c.ReconcileSchedule))
	}
	if _, ok := retentions[c.LogRetentionDays]; !ok {
		errs = append(errs, fmt.Errorf("context %s: %d is not a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …)", ctxLogRetentionDays, c.LogRetentionDays))
	}
	if c.HubAccount != "" && (len(c.HubAccount) != 12 || strings.Trim(c.HubAccount, "0123456789") != "") {
		errs = append(errs, fmt.Errorf("context %s: %q is not a 12-digit account id", ctxHubAccount, c.HubAccount))
	}
	if c.HubRegion != "" && !slices.Contains(manifest.Regions, c.HubRegion) {
		errs = append(errs, fmt.Errorf("context %s: unknown Region %q", ctxHubRegion, c.HubRegion))
	}
	if c.ExternalID != "" && !config.ValidExternalID(c.ExternalID) {
		errs = append(errs, fmt.Errorf("context %s: %q: want 2 to 1224 characters of letters, digits and +=,.@:/-", ctxExternalID, c.ExternalID))
	}
	return errors.Join(errs...)
}

// externalID is the external id the hub's functions pass and the target
// roles require.
func (c Config) externalID() string {
	if c.ExternalID != "" {
		return c.ExternalID
	}
	return "deckhand-" + c.HubAccount + "-" + c.HubRegion
}

// checkTargets reports what the manifest's targets need from the config:
// the hub's account and Region, and no target in the hub's own place (its
// services need no target: they run in Deckhand's own account and Region).
func (c Config) checkTargets(m *manifest.Manifest) error {
	if len(m.Targets) == 0 {
		return nil
	}
	var errs []error
	if c.HubAccount == "" || c.HubRegion == "" {
		errs = append(errs, fmt.Errorf("the manifest has targets: set context %s and %s to the hub's account and Region (the target stacks name the hub's function roles and event bus)", ctxHubAccount, ctxHubRegion))
	}
	for _, name := range m.TargetNames() {
		if t := m.Targets[name]; t.Account == c.HubAccount && t.Region == c.HubRegion {
			errs = append(errs, fmt.Errorf("target %s is the hub's own account and Region (%s, %s): leave target: out for services there", name, t.Account, t.Region))
		}
	}
	return errors.Join(errs...)
}
