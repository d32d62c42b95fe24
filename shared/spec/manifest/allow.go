package manifest

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Allow is a binding's or job's escape hatch from DESIGN §9's last rule: a
// template may not raise a container's privileges on its own. Each field
// lets the binding's template do one thing it otherwise may not; all are
// off by default. The renderer (shared/spec/taskdef) enforces it.
type Allow struct {
	Privileged  bool `yaml:"privileged,omitempty" json:"privileged,omitempty" jsonschema:"description=Containers may run privileged (containerDefinitions[].privileged)."`
	HostNetwork bool `yaml:"hostNetwork,omitempty" json:"hostNetwork,omitempty" jsonschema:"description=The task may share the host's network (networkMode: host)."`
	HostPID     bool `yaml:"hostPID,omitempty" json:"hostPID,omitempty" jsonschema:"description=The task may share the host's process namespace (pidMode: host)."`
	HostIPC     bool `yaml:"hostIPC,omitempty" json:"hostIPC,omitempty" jsonschema:"description=The task may share the host's IPC namespace (ipcMode: host)."`
	// HostPaths are absolute, clean host paths; each allows itself and what
	// is below it.
	HostPaths []string `yaml:"hostPaths,omitempty" json:"hostPaths,omitempty" jsonschema:"description=Host paths the template may mount or map: volumes[].host.sourcePath\\, a local-driver bind's device and linuxParameters.devices[].hostPath. Each allows itself and what is below it.,pattern=^/"`
	// Capabilities are Linux capabilities as ECS names them (SYS_ADMIN;
	// ALL allows every one).
	Capabilities []string `yaml:"capabilities,omitempty" json:"capabilities,omitempty" jsonschema:"description=Linux capabilities containers may add (linuxParameters.capabilities.add); ALL allows every one.,enum=ALL,enum=AUDIT_CONTROL,enum=AUDIT_WRITE,enum=BLOCK_SUSPEND,enum=CHOWN,enum=DAC_OVERRIDE,enum=DAC_READ_SEARCH,enum=FOWNER,enum=FSETID,enum=IPC_LOCK,enum=IPC_OWNER,enum=KILL,enum=LEASE,enum=LINUX_IMMUTABLE,enum=MAC_ADMIN,enum=MAC_OVERRIDE,enum=MKNOD,enum=NET_ADMIN,enum=NET_BIND_SERVICE,enum=NET_BROADCAST,enum=NET_RAW,enum=SETFCAP,enum=SETGID,enum=SETPCAP,enum=SETUID,enum=SYS_ADMIN,enum=SYS_BOOT,enum=SYS_CHROOT,enum=SYS_MODULE,enum=SYS_NICE,enum=SYS_PACCT,enum=SYS_PTRACE,enum=SYS_RAWIO,enum=SYS_RESOURCE,enum=SYS_TIME,enum=SYS_TTY_CONFIG,enum=SYSLOG,enum=WAKE_ALARM"`
	// Registries are registry hosts, or hosts with a path prefix, that the
	// images of containers not bound in images: may come from.
	Registries []string `yaml:"registries,omitempty" json:"registries,omitempty" jsonschema:"description=Registries (a host such as docker.io or a host and path prefix such as public.ecr.aws/aws-observability) the images of containers not bound in images: may come from\\, besides Deckhand's own ECR registry and those of sources.accounts."`
}

// Capabilities are the Linux capabilities ECS's KernelCapabilities accept.
var Capabilities = []string{
	"ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH",
	"FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN",
	"MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "SETFCAP",
	"SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE",
	"SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
}

// Capability normalises a capability name as ECS and Docker read it
// (sys_admin and CAP_SYS_ADMIN are SYS_ADMIN).
func Capability(s string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CAP_")
}

// AllowsCapability reports whether the allow block lets a container add
// the capability c.
func (a *Allow) AllowsCapability(c string) bool {
	if a == nil {
		return false
	}
	return slices.Contains(a.Capabilities, "ALL") || slices.Contains(a.Capabilities, Capability(c))
}

// AllowsHostPath reports whether the allow block lets the template name the
// host path p: p, cleaned, is one of hostPaths or below one.
func (a *Allow) AllowsHostPath(p string) bool {
	if a == nil || !strings.HasPrefix(p, "/") {
		return false
	}
	p = path.Clean(p)
	for _, h := range a.HostPaths {
		if p == h || h == "/" || strings.HasPrefix(p, h+"/") {
			return true
		}
	}
	return false
}

func (c *checker) allow(a *Allow, where ...any) {
	if a == nil {
		return
	}
	at := func(field string, i int) []any { return append(append([]any{}, where...), "allow", field, i) }
	for i, p := range a.HostPaths {
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
			c.add(fmt.Sprintf("host path %q: want an absolute, clean path such as /var/run/docker.sock", p), at("hostPaths", i)...)
		}
	}
	for i, cp := range a.Capabilities {
		if !slices.Contains(Capabilities, cp) {
			c.add(fmt.Sprintf("capability %q: want one ECS knows, such as NET_ADMIN or SYS_PTRACE (without CAP_, upper case)", cp), at("capabilities", i)...)
		}
	}
	for i, r := range a.Registries {
		if !validRegistry(r) {
			c.add(fmt.Sprintf("registry %q: want a registry host, optionally with a path prefix, such as docker.io or public.ecr.aws/aws-observability (no scheme, tag or digest)", r), at("registries", i)...)
		}
	}
}

// validRegistry reports whether s is a registry host with an optional port
// and repository path prefix, all lower case.
func validRegistry(s string) bool {
	host, rest, _ := strings.Cut(s, "/")
	name, port, hasPort := strings.Cut(host, ":")
	if name == "" || (hasPort && (port == "" || strings.Trim(port, "0123456789") != "")) {
		return false
	}
	if name != "localhost" && !strings.Contains(name, ".") {
		return false // docker.io, not docker: a first component without a dot is a repository
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return rest == "" || repoRe.MatchString(rest)
}
