// Package manifest reads and validates deckhand.yaml (DESIGN §3).
//
// The same code serves `deckhand validate`, the CDK app and the functions, so
// a manifest that synthesizes also deploys. Parsing is strict: an unknown key,
// a duplicate name, a bad schedule, a bad tag policy or an unknown container
// is an error that names the file, line and field.
package manifest

import "github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"

// Manifest is a parsed, validated deckhand.yaml.
type Manifest struct {
	Version int      `yaml:"version" json:"version" jsonschema:"enum=1,description=Manifest format version."`
	Roles   []string `yaml:"roles,omitempty" json:"roles,omitempty" jsonschema:"description=IAM role ARNs a rendered task definition may name (and the deployer may pass)."`
	Sources *Sources `yaml:"sources,omitempty" json:"sources,omitempty" jsonschema:"description=Extra accounts and Regions whose ECR events are accepted; Deckhand's own are always accepted."`
	// Include names files or directories (every *.yaml and *.yml directly
	// in it, by name) relative to this file, whose roles, targets, services
	// and jobs join this manifest's. An included file has the manifest's
	// shape; its version may be left out.
	Include  []string          `yaml:"include,omitempty" json:"include,omitempty" jsonschema:"description=Files or directories (every *.yaml and *.yml directly in it) relative to this file whose roles\\, targets\\, services and jobs join this manifest's: one file per team. Validated as one manifest; names are unique across files."`
	Targets  map[string]Target `yaml:"targets,omitempty" json:"targets,omitempty" jsonschema:"description=Accounts and Regions services and jobs run in (DESIGN §12)\\, by name. A service or job without target: runs in Deckhand's own account and Region."`
	Services []Service         `yaml:"services,omitempty" json:"services,omitempty"`
	Jobs     []Job             `yaml:"jobs,omitempty" json:"jobs,omitempty"`
	// Retention is the default of every service binding without its own
	// (DESIGN §13). Only the root manifest may set it.
	Retention *Retention `yaml:"retention,omitempty" json:"retention,omitempty" jsonschema:"description=How many of Deckhand's revisions to keep per service binding's family\\, unless the binding sets its own (DESIGN §13). Only the root manifest may set it."`

	// File is the name the manifest was loaded from, for error messages.
	File string `yaml:"-" json:"-"`

	idx *index // built by Parse, Load and Validate
}

// Target is an account and Region Deckhand deploys into, and the role it
// assumes there (with an external id and session tags naming the binding).
type Target struct {
	Account string `yaml:"account" json:"account" jsonschema:"pattern=^[0-9]{12}$,description=The 12-digit account id."`
	Region  string `yaml:"region" json:"region" jsonschema:"description=The Region\\, such as eu-central-1."`
	Role    string `yaml:"role" json:"role" jsonschema:"description=ARN of the role Deckhand assumes in the target; it must be in the target's account. The CDK app's target stack creates it."`
}

// Sources widens the accounts and Regions whose push events are accepted.
type Sources struct {
	Accounts []string `yaml:"accounts,omitempty" json:"accounts,omitempty" jsonschema:"pattern=^[0-9]{12}$"`
	Regions  []string `yaml:"regions,omitempty" json:"regions,omitempty"`
}

// Circuit-breaker modes.
const (
	CircuitBreakerOff      = "off"
	CircuitBreakerOn       = "on"
	CircuitBreakerRollback = "rollback"
)

// Service binds an ECS service to the repositories its containers follow.
type Service struct {
	Name           string            `yaml:"name" json:"name" jsonschema:"description=Binding name, unique across services and jobs."`
	Target         string            `yaml:"target,omitempty" json:"target,omitempty" jsonschema:"description=Name of the target (under targets:) the service runs in; default Deckhand's own account and Region."`
	Cluster        string            `yaml:"cluster" json:"cluster"`
	Service        string            `yaml:"service" json:"service"`
	Template       string            `yaml:"template" json:"template" jsonschema:"description=S3 key of the task-definition template in the Deckhand bucket."`
	Images         map[string]Image  `yaml:"images" json:"images" jsonschema:"description=Container name to image source."`
	Vars           map[string]string `yaml:"vars,omitempty" json:"vars,omitempty"`
	CircuitBreaker string            `yaml:"circuitBreaker,omitempty" json:"circuitBreaker,omitempty" jsonschema:"enum=off,enum=on,enum=rollback,default=rollback"`
	Deployment     *Deployment       `yaml:"deployment,omitempty" json:"deployment,omitempty" jsonschema:"description=How ECS rolls the binding's revisions out (DESIGN §10): strategy\\, bake time\\, canary or linear steps and the alarms that roll back. Without it Deckhand sets only the circuit breaker and leaves the service's strategy as it is."`
	Allow          *Allow            `yaml:"allow,omitempty" json:"allow,omitempty" jsonschema:"description=What this binding's template may do that a template may not do on its own (DESIGN §9); everything is off by default."`
	Gates          *Gates            `yaml:"gates,omitempty" json:"gates,omitempty" jsonschema:"description=What a deploy to this binding must pass (DESIGN §11): soak (for promotions)\\, approval\\, a vulnerability scan and freeze windows."`
	Retention      *Retention        `yaml:"retention,omitempty" json:"retention,omitempty" jsonschema:"description=How many of Deckhand's revisions of this binding to keep (overrides the top-level retention:)."`
}

// Retention bounds the revisions Deckhand keeps (DESIGN §13): beyond the
// newest Keep it deregisters and then deletes its own revisions of a
// binding's family, never one the service serves, one a deployment or a
// rollback may return to, a pending approval, or a revision Deckhand did
// not register (shared/engine/retention).
type Retention struct {
	Keep int `yaml:"keep" json:"keep" jsonschema:"minimum=1,description=How many of Deckhand's newest revisions to keep; at least 1 (the serving revision always stays\\, on top of these when it is older)."`
}

// Image says where a container's image comes from: a repository with a tag
// policy, or (jobs only) whatever a service binding runs now.
type Image struct {
	Repository  string `yaml:"repository,omitempty" json:"repository,omitempty"`
	Tags        string `yaml:"tags,omitempty" json:"tags,omitempty" jsonschema:"description=semver:<constraint>\\, glob:<pattern>\\, regex:<re> or *"`
	FromService string `yaml:"fromService,omitempty" json:"fromService,omitempty" jsonschema:"description=Jobs only: follow the image this service binding runs now."`
	PromoteFrom string `yaml:"promoteFrom,omitempty" json:"promoteFrom,omitempty" jsonschema:"description=Services only: deploy exactly the digest this binding reached SUCCEEDED with and served for gates.soak (DESIGN §11). Every container of the binding promotes from the same binding\\, which has the same containers."`

	policy tagpolicy.Policy
	// origin is the repository a promoted image comes from: the end of its
	// promotion chain (set by validation).
	origin string
}

// Policy returns the parsed tag policy (valid after Load or Validate).
func (i Image) Policy() tagpolicy.Policy { return i.policy }

// Overlap policies for jobs.
const (
	OverlapAllow   = "allow"
	OverlapForbid  = "forbid"
	OverlapReplace = "replace"
)

// Job is a scheduled task.
type Job struct {
	Name      string            `yaml:"name" json:"name"`
	Schedule  string            `yaml:"schedule" json:"schedule" jsonschema:"description=EventBridge Scheduler expression: cron(...)\\, rate(...) or at(...)."`
	Timezone  string            `yaml:"timezone,omitempty" json:"timezone,omitempty" jsonschema:"description=IANA time zone, default UTC."`
	Target    string            `yaml:"target,omitempty" json:"target,omitempty" jsonschema:"description=Name of the target (under targets:) the job runs in; default Deckhand's own account and Region."`
	Cluster   string            `yaml:"cluster" json:"cluster"`
	Template  string            `yaml:"template" json:"template"`
	Images    map[string]Image  `yaml:"images,omitempty" json:"images,omitempty" jsonschema:"description=Container name to image source. Optional: without it the template's images run as written (deckhand validate warns on mutable tags)."`
	Vars      map[string]string `yaml:"vars,omitempty" json:"vars,omitempty"`
	Overlap   string            `yaml:"overlap,omitempty" json:"overlap,omitempty" jsonschema:"enum=allow,enum=forbid,enum=replace,default=forbid"`
	Timeout   string            `yaml:"timeout,omitempty" json:"timeout,omitempty" jsonschema:"description=Go duration such as 2h or 90m; the reconciler stops runs past it."`
	Retries   int               `yaml:"retries,omitempty" json:"retries,omitempty" jsonschema:"minimum=0,maximum=10"`
	Launch    *Launch           `yaml:"launch,omitempty" json:"launch,omitempty"`
	Network   *Network          `yaml:"network,omitempty" json:"network,omitempty"`
	Overrides *Overrides        `yaml:"overrides,omitempty" json:"overrides,omitempty"`
	Allow     *Allow            `yaml:"allow,omitempty" json:"allow,omitempty" jsonschema:"description=What this job's template may do that a template may not do on its own (DESIGN §9); everything is off by default."`
}

// Launch is a launch type or a capacity-provider strategy.
type Launch struct {
	LaunchType        string             `yaml:"launchType,omitempty" json:"launchType,omitempty" jsonschema:"enum=FARGATE,enum=EC2,enum=EXTERNAL"`
	CapacityProviders []CapacityProvider `yaml:"capacityProviders,omitempty" json:"capacityProviders,omitempty" jsonschema:"maxItems=20"`
	PlatformVersion   string             `yaml:"platformVersion,omitempty" json:"platformVersion,omitempty" jsonschema:"description=Fargate only."`
}

// CapacityProvider is one entry of a capacity-provider strategy.
type CapacityProvider struct {
	Provider string `yaml:"provider" json:"provider"`
	Weight   int32  `yaml:"weight,omitempty" json:"weight,omitempty" jsonschema:"minimum=0,maximum=1000"`
	Base     int32  `yaml:"base,omitempty" json:"base,omitempty" jsonschema:"minimum=0,maximum=100000"`
}

// Network is the awsvpc network configuration of a job's task.
type Network struct {
	Subnets        []string `yaml:"subnets" json:"subnets" jsonschema:"minItems=1,maxItems=16"`
	SecurityGroups []string `yaml:"securityGroups,omitempty" json:"securityGroups,omitempty" jsonschema:"maxItems=5"`
	AssignPublicIP string   `yaml:"assignPublicIp,omitempty" json:"assignPublicIp,omitempty" jsonschema:"enum=ENABLED,enum=DISABLED"`
}

// Overrides are RunTask overrides for the job's main container.
type Overrides struct {
	Container   string            `yaml:"container,omitempty" json:"container,omitempty" jsonschema:"description=Container to override; default the first container under images: (required when the job has none and overrides command or environment)."`
	Command     []string          `yaml:"command,omitempty" json:"command,omitempty"`
	Environment map[string]string `yaml:"environment,omitempty" json:"environment,omitempty"`
	CPU         string            `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	Memory      string            `yaml:"memory,omitempty" json:"memory,omitempty"`
}
