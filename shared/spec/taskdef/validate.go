package taskdef

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// familyRe has no counted repetition (which compiles to hundreds of
// instructions at start-up); the length is checked beside it.
var familyRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// MaxContainers is the most container definitions a task definition may have.
const MaxContainers = 10

// validate checks a decoded definition against what ECS accepts and the
// manifest allows, and returns every problem.
func validate(r *Rendered, data Data, opts Options) []*Error {
	var errs []*Error
	fail := func(path string, format string, args ...any) {
		errs = append(errs, &Error{Path: path, Err: fmt.Errorf(format, args...)})
	}
	in := r.Input
	if len(r.JSON) > MaxSize {
		fail("$", "rendered definition is %d bytes; ECS allows at most %d (64 KiB)", len(r.JSON), MaxSize)
	}
	if in.Family == nil || len(*in.Family) > 255 || !familyRe.MatchString(*in.Family) {
		fail("$.family", "family %q: want 1-255 letters, digits, '_' or '-'", aws.ToString(in.Family))
	}
	n := len(in.ContainerDefinitions)
	if n == 0 {
		fail("$.containerDefinitions", "at least one container definition is required")
	}
	if n > MaxContainers {
		fail("$.containerDefinitions", "%d containers; ECS allows at most %d per task definition", n, MaxContainers)
	}
	names := map[string]bool{}
	for i, c := range in.ContainerDefinitions {
		p := fmt.Sprintf("$.containerDefinitions[%d]", i)
		name := aws.ToString(c.Name)
		switch {
		case name == "":
			fail(p+".name", "container name is required")
		case names[name]:
			fail(p+".name", "duplicate container name %q", name)
		}
		names[name] = true
		if aws.ToString(c.Image) == "" {
			if len(data.Images) == 0 {
				fail(p+".image", "container %q has no image; there is no images: entry, so {{ .Image }} is empty: write the image, or bind the container under images:", name)
			} else {
				fail(p+".image", "container %q has no image", name)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(data.Images)) {
		if !names[name] {
			delete(names, "")
			fail("$.containerDefinitions", "images: container %q is not in the template; its containers are %s", name, strings.Join(slices.Sorted(maps.Keys(names)), ", "))
		}
	}
	for _, role := range []struct {
		path string
		arn  *string
	}{{"$.taskRoleArn", in.TaskRoleArn}, {"$.executionRoleArn", in.ExecutionRoleArn}} {
		if role.arn != nil && *role.arn != "" && !slices.Contains(opts.Roles, *role.arn) {
			fail(role.path, "role %s is not in the manifest's roles: allow-list", *role.arn)
		}
	}
	errs = append(errs, privileges(in, data, opts)...)
	if opts.Job != nil {
		errs = append(errs, runnable(in, opts.Job)...)
	}
	if slices.Contains(in.RequiresCompatibilities, types.CompatibilityFargate) {
		if in.NetworkMode != types.NetworkModeAwsvpc {
			fail("$.networkMode", "Fargate runs only networkMode awsvpc, and requiresCompatibilities names FARGATE")
		}
		if path, err := fargateSize(in.Cpu, in.Memory); err != nil {
			fail(path, "%v", err)
		}
	}
	return errs
}

// fargateCPU maps task cpu units to the memory range (MiB) and step Fargate
// allows.
var fargateCPU = map[int]struct{ min, max, step int }{
	256:   {512, 2048, 0}, // 512, 1024 or 2048
	512:   {1024, 4096, 1024},
	1024:  {2048, 8192, 1024},
	2048:  {4096, 16384, 1024},
	4096:  {8192, 30720, 1024},
	8192:  {16384, 61440, 4096},
	16384: {32768, 122880, 8192},
}

// fargateSize checks task-level cpu and memory for Fargate and returns the
// path of the field at fault.
func fargateSize(cpuS, memS *string) (string, error) {
	if cpuS == nil {
		return "$.cpu", fmt.Errorf("task-level cpu and memory are required on Fargate")
	}
	if memS == nil {
		return "$.memory", fmt.Errorf("task-level cpu and memory are required on Fargate")
	}
	cpu, err := units(*cpuS, "vcpu", 1024)
	if err != nil {
		return "$.cpu", fmt.Errorf("cpu %q: %w", *cpuS, err)
	}
	mem, err := units(*memS, "gb", 1024)
	if err != nil {
		return "$.memory", fmt.Errorf("memory %q: %w", *memS, err)
	}
	r, ok := fargateCPU[cpu]
	if !ok {
		return "$.cpu", fmt.Errorf("cpu %d is not a Fargate size (256, 512, 1024, 2048, 4096, 8192 or 16384)", cpu)
	}
	valid := mem >= r.min && mem <= r.max
	if cpu == 256 {
		valid = mem == 512 || mem == 1024 || mem == 2048
	} else if valid {
		valid = (mem-r.min)%r.step == 0
	}
	if !valid {
		return "$.cpu", fmt.Errorf("memory %d MiB is not valid with cpu %d on Fargate (allowed %d-%d MiB)", mem, cpu, r.min, r.max)
	}
	return "", nil
}

// units parses "512", "0.5 vCPU" or "2 GB" into the API's integer units.
func units(s, suffix string, scale float64) (int, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if strings.HasSuffix(t, suffix) {
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, suffix)), 64)
		if err != nil {
			return 0, err
		}
		return int(f * scale), nil
	}
	return strconv.Atoi(t)
}
