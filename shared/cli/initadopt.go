package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Init adopts a running service (or a crontab job's task definition): it
// writes a template from the running revision, with the images of the
// containers that run from this account's ECR turned into placeholders,
// and appends a manifest entry binding each of them with a tag policy
// guessed from its running tag. Before it returns it renders the new entry
// with the running images and checks that the result is the running
// revision, field for field; if not, it puts the files back as they were.
func (e *Env) Init(ctx context.Context, req InitRequest) (*InitResult, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	// The manifest names clusters and services; ECS takes ARNs too.
	req.Cluster = lastSegment(req.Cluster)
	req.Service = lastSegment(req.Service)
	d, err := e.runningRevision(ctx, req)
	if err != nil {
		return nil, err
	}
	account := accountOf(d.ARN)
	if account == "" {
		account = e.Account
	}
	family := aws.ToString(d.Input.Family)
	res := &InitResult{Kind: "service", Binding: req.bindingName(family), Manifest: req.Manifest, Revision: d.ARN}
	if req.TaskDefinition != "" {
		res.Kind = "job"
	}
	key := "templates/" + res.Binding + ".json"
	res.Template = filepath.Join(filepath.Dir(req.Manifest), filepath.FromSlash(key))

	home := taskdef.Registry(account, e.Region)
	images := map[string]manifest.Image{}
	running := []Resolved{}
	unbound := map[string]bool{}
	for _, c := range d.Input.ContainerDefinitions {
		name, img := aws.ToString(c.Name), aws.ToString(c.Image)
		if host, _ := taskdef.SplitImage(img); host != home {
			unbound[name] = true
			res.Unbound = append(res.Unbound, fmt.Sprintf("%s runs %s, not from this account's ECR (%s): kept as written", name, img, home))
			continue
		}
		r, note := e.runningImage(ctx, account, img)
		if note != "" {
			res.Notes = append(res.Notes, fmt.Sprintf("container %s: %s", name, note))
		}
		g := GuessPolicy(r.Tags)
		images[name] = manifest.Image{Repository: r.Repository, Tags: g.Policy}
		running = append(running, r)
		res.Images = append(res.Images, InitImage{Container: name, Repository: r.Repository, Running: img, GuessedPolicy: g})
	}
	if res.Kind == "service" && len(images) == 0 {
		return nil, fmt.Errorf("service %s/%s runs no image from this account's ECR (%s), and Deckhand deploys ECR pushes: push its image to ECR, deploy it, then run init again",
			req.Cluster, req.Service, home)
	}
	allow, why := allowFor(d.Input, unbound, []string{home})
	res.Allow = why

	var entry any
	var primary string
	if res.Kind == "service" {
		s := manifest.Service{Name: res.Binding, Cluster: req.Cluster, Service: req.Service, Template: key, Images: images, Allow: allow}
		entry, primary = s, revision.ServicePrimary(&s)
	} else {
		j, err := jobEntry(res.Binding, req, key, images, allow, d.Input)
		if err != nil {
			return nil, err
		}
		entry, primary = j, revision.JobPrimary(j)
	}
	placeholders := map[string]string{}
	for c := range images {
		placeholders[c] = fmt.Sprintf("{{ (index .Images %q).URI }}", c)
	}
	if primary != "" {
		placeholders[primary] = "{{ .Image }}"
	}
	tmpl, err := templateOf(d, placeholders)
	if err != nil {
		return nil, err
	}
	if err := e.writeAdoption(ctx, req, res, d, entry, tmpl, running); err != nil {
		return nil, err
	}
	return res, nil
}

// runningImage is a bound container's image as it runs, with the tags ECR
// knows for its digest (which the policy is guessed from) and its digest.
func (e *Env) runningImage(ctx context.Context, account, uri string) (Resolved, string) {
	img := taskdef.ParseImageURI(uri)
	r := Resolved{Image: img}
	if img.Tag != "" {
		r.Tags = []string{img.Tag}
	}
	id := ecrtypes.ImageIdentifier{}
	if img.Digest != "" {
		id.ImageDigest = aws.String(img.Digest)
	} else if img.Tag != "" {
		id.ImageTag = aws.String(img.Tag)
	} else {
		id.ImageTag = aws.String("latest")
	}
	if e.ECR == nil {
		return r, "ECR not asked; the policy is guessed from the image reference alone"
	}
	out, err := e.ECR.DescribeImages(ctx, &ecr.DescribeImagesInput{RegistryId: aws.String(account), RepositoryName: aws.String(img.Repository), ImageIds: []ecrtypes.ImageIdentifier{id}})
	if err != nil || len(out.ImageDetails) == 0 {
		if r.Digest == "" {
			r.Digest = FakeDigest(img.Repository, img.Tag)
		}
		why := "no such image"
		if err != nil {
			why = err.Error()
		}
		return r, fmt.Sprintf("ECR does not know %s (%s); the policy is guessed from the image reference alone", uri, why)
	}
	r.Tags = append(r.Tags, out.ImageDetails[0].ImageTags...)
	r.Digest = aws.ToString(out.ImageDetails[0].ImageDigest)
	return r, ""
}

// jobEntry is the manifest entry of an adopted job: no schedule (the
// person fills it in; validate says so), the launch type the revision
// requires, and the network given on the command line.
func jobEntry(name string, req InitRequest, key string, images map[string]manifest.Image, allow *manifest.Allow, in *ecsInput) (*manifest.Job, error) {
	j := &manifest.Job{Name: name, Cluster: req.Cluster, Template: key, Allow: allow}
	if len(images) > 0 {
		j.Images = images
	}
	compat := in.RequiresCompatibilities
	switch {
	case slices.Contains(compat, types.CompatibilityFargate) && !slices.Contains(compat, types.CompatibilityEc2):
		j.Launch = &manifest.Launch{LaunchType: "FARGATE"}
	case slices.Contains(compat, types.CompatibilityEc2) && !slices.Contains(compat, types.CompatibilityFargate):
		j.Launch = &manifest.Launch{LaunchType: "EC2"}
	}
	awsvpc := in.NetworkMode == types.NetworkModeAwsvpc
	switch {
	case awsvpc && len(req.Subnets) == 0:
		return nil, usagef("init: %s uses networkMode awsvpc, so RunTask needs a network configuration, which a task definition does not hold: pass --subnet (and --security-group, --assign-public-ip) as your crontab's `aws ecs run-task --network-configuration` does",
			aws.ToString(in.Family))
	case !awsvpc && len(req.Subnets) > 0:
		return nil, usagef("init: --subnet is for networkMode awsvpc, and %s uses %s", aws.ToString(in.Family), or(string(in.NetworkMode), "bridge"))
	case awsvpc:
		j.Network = &manifest.Network{Subnets: req.Subnets, SecurityGroups: req.SecurityGroups, AssignPublicIP: req.AssignPublicIP}
	}
	return j, nil
}

// lastSegment is the name an ECS cluster or service ARN ends with, or s.
func lastSegment(s string) string {
	if strings.HasPrefix(s, "arn:") {
		return s[strings.LastIndex(s, "/")+1:]
	}
	return s
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// existing reports where a manifest names the binding already.
func existing(m *manifest.Manifest, name string) string {
	if m == nil {
		return ""
	}
	for _, s := range m.Services {
		if s.Name == name {
			return "service binding"
		}
	}
	for _, j := range m.Jobs {
		if j.Name == name {
			return "job"
		}
	}
	return ""
}

// addedRoles are the revision's roles the manifest's roles: lacks.
func addedRoles(m *manifest.Manifest, in *ecsInput) []string {
	var out []string
	for _, r := range []*string{in.TaskRoleArn, in.ExecutionRoleArn} {
		arn := aws.ToString(r)
		if arn == "" || slices.Contains(out, arn) || m != nil && slices.Contains(m.Roles, arn) {
			continue
		}
		out = append(out, arn)
	}
	return out
}

// loadForInit reads the manifest init appends to: its text (empty if it
// does not exist) and, when it parses, its entries (with the files it
// includes), for the name check.
func loadForInit(ctx context.Context, path string) ([]byte, *manifest.Manifest, bool, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("read manifest: %w", err)
	}
	m, _ := store.Dir{ManifestPath: path}.Manifest(ctx)
	return src, m, true, nil
}

// sameAsRunning compares a rendered definition with the running revision,
// apart from the images of the bound containers.
func sameAsRunning(d *described, r *taskdef.Rendered, bound map[string]manifest.Image) error {
	want, err := withoutImages(d.Doc, bound)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(r.JSON, &doc); err != nil {
		return fmt.Errorf("decode rendered definition: %w", err)
	}
	got, err := withoutImages(doc, bound)
	if err != nil {
		return err
	}
	if want != got {
		return fmt.Errorf("the template renders a definition that differs from the running revision %s (a bug in deckhand init; please report it):\nrunning:  %s\nrendered: %s", d.ARN, want, got)
	}
	return nil
}

func withoutImages(doc map[string]any, bound map[string]manifest.Image) (string, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encode definition: %w", err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		return "", fmt.Errorf("decode definition: %w", err)
	}
	defs, _ := c["containerDefinitions"].([]any)
	for _, def := range defs {
		if m, _ := def.(map[string]any); m != nil {
			if name, _ := m["name"].(string); bound[name].Repository != "" {
				delete(m, "image")
			}
		}
	}
	out, err := json.Marshal(c)
	return strings.TrimSpace(string(out)), err
}
