package taskdef

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// runnable refuses, for a job, what RunTask would refuse with an
// InvalidParameterException, knowable from the job's launch, network and
// overrides and the rendered definition: a scheduled job that validates
// must be able to run. (The manifest's own checks cover what needs no
// template: subnet and security-group counts, a strategy's bases and
// weights, a public IP or platform version off Fargate.) The caller names
// the job.
func runnable(in *ecs.RegisterTaskDefinitionInput, job *manifest.Job) []*Error {
	var errs []*Error
	fail := func(path, format string, args ...any) {
		errs = append(errs, &Error{Path: path, Err: fmt.Errorf(format, args...)})
	}
	mode := in.NetworkMode
	shown := string(mode)
	if shown == "" {
		shown = "unset (bridge on EC2)"
	}
	switch {
	case mode == types.NetworkModeAwsvpc && job.Network == nil:
		fail("$.networkMode", "networkMode awsvpc needs a network configuration and the job has no network:; RunTask refuses it "+
			"(\"Network Configuration must be provided when networkMode 'awsvpc' is specified\"): add `network: { subnets: [...], securityGroups: [...] }` to the job")
	case mode != types.NetworkModeAwsvpc && job.Network != nil:
		fail("$.networkMode", "the job has network:, which is for networkMode awsvpc, and networkMode is %s; RunTask refuses it "+
			"(\"Network Configuration is not valid for the given networkMode of this task definition\")", shown)
	}
	fargateTemplate := slices.Contains(in.RequiresCompatibilities, types.CompatibilityFargate)
	if job.Launch.Fargate() {
		if mode != types.NetworkModeAwsvpc && !fargateTemplate { // else validate says so
			fail("$.networkMode", "the job launches on Fargate, which runs only networkMode awsvpc, and networkMode is %s", shown)
		}
		if !fargateTemplate {
			fail("$.requiresCompatibilities", "the job launches on Fargate and requiresCompatibilities does not name FARGATE; RunTask refuses it "+
				"(\"Task definition does not support launch_type FARGATE\"): add \"requiresCompatibilities\": [\"FARGATE\"]")
		}
	}
	if o := job.Overrides; o != nil && o.Container != "" {
		names := make([]string, 0, len(in.ContainerDefinitions))
		for _, c := range in.ContainerDefinitions {
			names = append(names, aws.ToString(c.Name))
		}
		if !slices.Contains(names, o.Container) {
			fail("$.containerDefinitions", "overrides.container names %q, which is not a container of the template (%s); RunTask refuses the override",
				o.Container, strings.Join(names, ", "))
		}
	}
	return errs
}
