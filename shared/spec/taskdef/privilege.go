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

// privileges refuses what a template may not do on its own (DESIGN §9):
// privileged containers, the host's network, PID or IPC namespace, host
// paths (host volumes, local-driver bind mounts, devices), added Linux
// capabilities, and images of unbound containers from registries the
// manifest does not name, each unless the binding's allow: says otherwise.
// Containers bound in images: run the image Deckhand resolved, so their
// registry is not the template's to choose.
func privileges(in *ecs.RegisterTaskDefinitionInput, data Data, opts Options) []*Error {
	var errs []*Error
	allow := opts.Allow
	deny := func(path, what, grant string) {
		errs = append(errs, &Error{Path: path, Err: fmt.Errorf("%s; a template may not raise privileges on its own (DESIGN §9): allow it for this binding with `allow: { %s }`", what, grant)})
	}
	for _, m := range []struct {
		path, mode string
		allowed    bool
		grant      string
	}{
		{"$.networkMode", string(in.NetworkMode), allow != nil && allow.HostNetwork, "hostNetwork: true"},
		{"$.pidMode", string(in.PidMode), allow != nil && allow.HostPID, "hostPID: true"},
		{"$.ipcMode", string(in.IpcMode), allow != nil && allow.HostIPC, "hostIPC: true"},
	} {
		if m.mode == "host" && !m.allowed {
			deny(m.path, fmt.Sprintf("%s host shares the host's namespace with the task", m.path[2:]), m.grant)
		}
	}
	hostPath := func(path, p string) {
		if !allow.AllowsHostPath(p) {
			deny(path, fmt.Sprintf("host path %q is not in allow.hostPaths", p), fmt.Sprintf("hostPaths: [%s]", p))
		}
	}
	for i, v := range in.Volumes {
		if v.Host != nil && aws.ToString(v.Host.SourcePath) != "" {
			hostPath(fmt.Sprintf("$.volumes[%d].host.sourcePath", i), aws.ToString(v.Host.SourcePath))
		}
		if dv := v.DockerVolumeConfiguration; dv != nil && localBind(dv) {
			hostPath(fmt.Sprintf("$.volumes[%d].dockerVolumeConfiguration.driverOpts.device", i), dv.DriverOpts["device"])
		}
	}
	registries := namedRegistries(data, opts)
	for i, c := range in.ContainerDefinitions {
		at := fmt.Sprintf("$.containerDefinitions[%d]", i)
		name := aws.ToString(c.Name)
		if aws.ToBool(c.Privileged) && (allow == nil || !allow.Privileged) {
			deny(at+".privileged", fmt.Sprintf("container %q asks to run privileged", name), "privileged: true")
		}
		if lp := c.LinuxParameters; lp != nil {
			if lp.Capabilities != nil {
				for j, cp := range lp.Capabilities.Add {
					if !allow.AllowsCapability(cp) {
						deny(fmt.Sprintf("%s.linuxParameters.capabilities.add[%d]", at, j),
							fmt.Sprintf("container %q adds the capability %s", name, cp), "capabilities: ["+manifest.Capability(cp)+"]")
					}
				}
			}
			for j, d := range lp.Devices {
				hostPath(fmt.Sprintf("%s.linuxParameters.devices[%d].hostPath", at, j), aws.ToString(d.HostPath))
			}
		}
		if _, bound := data.Images[name]; bound {
			continue
		}
		if img := aws.ToString(c.Image); img != "" && !fromRegistries(img, registries) {
			deny(at+".image", fmt.Sprintf("container %q runs %s from %s, a registry the manifest does not name (Deckhand's own is %s)",
				name, img, imageRegistry(img), registries[0]), "registries: ["+imageRegistry(img)+"]")
		}
	}
	return errs
}

// localBind reports whether a Docker volume mounts a host path through the
// local driver (driverOpts device /path, as a bind or a block device).
func localBind(dv *types.DockerVolumeConfiguration) bool {
	d := aws.ToString(dv.Driver)
	return (d == "" || d == "local") && strings.HasPrefix(dv.DriverOpts["device"], "/")
}

// namedRegistries are the registries the manifest names (DESIGN §9):
// Deckhand's own ECR registry in its Region first, those of the sources:
// accounts in Deckhand's Region and the sources: Regions, and the
// binding's allow.registries.
func namedRegistries(data Data, opts Options) []string {
	out := []string{Registry(data.Account, data.Region)}
	if s := opts.Sources; s != nil {
		accounts := append([]string{data.Account}, s.Accounts...)
		regions := append([]string{data.Region}, s.Regions...)
		for _, a := range accounts {
			for _, r := range regions {
				if reg := Registry(a, r); !slices.Contains(out, reg) {
					out = append(out, reg)
				}
			}
		}
	}
	if opts.Allow != nil {
		out = append(out, opts.Allow.Registries...)
	}
	return out
}

// fromRegistries reports whether image comes from one of registries: its
// registry host is one, or its host and repository path start with one at
// a path boundary.
func fromRegistries(image string, registries []string) bool {
	host, repo := splitImage(image)
	for _, r := range registries {
		if host == r || strings.HasPrefix(host+"/"+repo, strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}

// imageRegistry is the registry host an image reference pulls from.
func imageRegistry(image string) string {
	host, _ := splitImage(image)
	return host
}

// SplitImage is splitImage for the CLI (`deckhand init` names the
// registries a revision's unbound containers pull from).
func SplitImage(image string) (host, repository string) { return splitImage(image) }

// splitImage splits an image reference into the registry host it pulls
// from and its repository, as Docker reads it: the first path component is
// the host when it has a dot or a port or is localhost, else the image is
// Docker Hub's (nginx is docker.io/library/nginx; index.docker.io is
// docker.io).
func splitImage(image string) (host, repository string) {
	first, rest, found := strings.Cut(image, "/")
	switch {
	case !found:
		host, rest = "docker.io", "library/"+image
	case first == "localhost" || strings.ContainsAny(first, ".:"):
		host = strings.ToLower(first)
		if host == "index.docker.io" || host == "registry-1.docker.io" {
			host = "docker.io"
		}
	default:
		host, rest = "docker.io", image
	}
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		rest = rest[:at]
	}
	if colon := strings.LastIndexByte(rest, ':'); colon >= 0 && !strings.Contains(rest[colon:], "/") {
		rest = rest[:colon]
	}
	return host, rest
}
