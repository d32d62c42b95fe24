package targets_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

const externalID = "deckhand-123456789012-us-west-2"

var (
	euProd = manifest.Target{Account: "210987654321", Region: "eu-central-1", Role: "arn:aws:iam::210987654321:role/deckhand-target"}
	usProd = manifest.Target{Account: "310987654321", Region: "us-east-1", Role: "arn:aws:iam::310987654321:role/deckhand-target"}
)

// rig is a sandbox with two target accounts, each with the role the CDK
// app's target stacks create (trusting the hub with the external id and
// session tags) and a cluster "prod" holding a service "web" whose
// desired count tells the accounts apart.
func rig(t *testing.T) (*sandbox.Sandbox, *targets.Provider) {
	t.Helper()
	sb := sandboxtest.Start(t)
	for i, tg := range []manifest.Target{euProd, usProd} {
		if err := sb.PutRole(sandbox.RoleSpec{ARN: tg.Role, TrustAccounts: []string{sb.Account()}, ExternalID: externalID, TagSession: true}); err != nil {
			t.Fatal(err)
		}
		// A 12-digit access key id is that account's root in the sandbox.
		cfg := sb.AWSConfig()
		cfg.Region, cfg.Credentials = tg.Region, credentials.NewStaticCredentialsProvider(tg.Account, "x", "")
		admin := ecs.NewFromConfig(cfg)
		ctx := context.Background()
		if _, err := admin.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
			t.Fatal(err)
		}
		td, err := admin.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("web@sha256:1")}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(int32(i + 1))}); err != nil {
			t.Fatal(err)
		}
	}
	return sb, &targets.Provider{AWS: sb.AWSConfig(), ExternalID: externalID, Now: sb.Clock().Now}
}

// session is what a test compares of an STS session.
type session struct {
	Role, Name, ExternalID string
	Tags                   map[string]string
}

// desired is the desired count of prod/web as client sees it.
func desired(t *testing.T, client targets.ECS) int32 {
	t.Helper()
	out, err := client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil {
		t.Fatalf("DescribeServices: %v", err)
	}
	if len(out.Services) != 1 {
		t.Fatalf("DescribeServices found %d services (failures %v)", len(out.Services), out.Failures)
	}
	return out.Services[0].DesiredCount
}

func mustECS(t *testing.T, p *targets.Provider, name string, tg manifest.Target, binding string) targets.ECS {
	t.Helper()
	c, err := p.ECS(context.Background(), name, tg, binding)
	if err != nil {
		t.Fatalf("ECS(%s, %s): %v", name, binding, err)
	}
	return c
}

// TestEachTargetsCallsLandInItsAccountAndRegion: a binding's client signs
// with a session of its target's role, so its calls work in the target's
// account and Region, and two targets' clients never see each other's
// services.
func TestEachTargetsCallsLandInItsAccountAndRegion(t *testing.T) {
	sb, p := rig(t)
	if got := desired(t, mustECS(t, p, "eu", euProd, "web-eu")); got != 1 {
		t.Errorf("eu client sees desired count %d, want 1 (the eu account's service)", got)
	}
	if got := desired(t, mustECS(t, p, "us", usProd, "web-us")); got != 2 {
		t.Errorf("us client sees desired count %d, want 2 (the us account's service)", got)
	}
	var got []session
	for _, s := range sb.Sessions() {
		got = append(got, session{Role: s.RoleARN, Name: s.SessionName, ExternalID: s.ExternalID, Tags: s.Tags})
	}
	want := []session{
		{Role: euProd.Role, Name: "deckhand-web-eu", ExternalID: externalID, Tags: map[string]string{"deckhand:binding": "web-eu", "deckhand:target": "eu"}},
		{Role: usProd.Role, Name: "deckhand-web-us", ExternalID: externalID, Tags: map[string]string{"deckhand:binding": "web-us", "deckhand:target": "us"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sessions STS issued (-want +got):\n%s", diff)
	}
}

// TestASessionServesItsBindingForItsLifetime: calls of one binding share
// one session until Refresh before it expires; another binding of the same
// target has a session of its own (its tags name it).
func TestASessionServesItsBindingForItsLifetime(t *testing.T) {
	sb, p := rig(t)
	c := mustECS(t, p, "eu", euProd, "web-eu")
	desired(t, c)
	sb.Clock().Advance(30 * time.Minute)
	if again := mustECS(t, p, "eu", euProd, "web-eu"); again != c {
		t.Errorf("a second ECS for the binding built another client")
	}
	desired(t, c)
	if n := len(sb.Sessions()); n != 1 {
		t.Errorf("%d sessions after two uses within the hour, want 1", n)
	}
	desired(t, mustECS(t, p, "eu", euProd, "api-eu"))
	if n := len(sb.Sessions()); n != 2 {
		t.Errorf("%d sessions after a second binding, want 2", n)
	}
	// 56 minutes in: within Refresh of the hour, the session is renewed
	// before a call is signed with it, with no ExpiredToken answer.
	sb.Clock().Advance(26 * time.Minute)
	desired(t, c)
	if n := len(sb.Sessions()); n != 3 {
		t.Errorf("%d sessions after the first one came within 5 minutes of expiring, want 3", n)
	}
}

// TestAnExpiredSessionIsRenewedAndTheCallRetried: when AWS says a
// session expired before the provider's clock does (clocks apart, or the
// session revoked), the call is retried with a new session.
func TestAnExpiredSessionIsRenewedAndTheCallRetried(t *testing.T) {
	tests := map[string]func(sb *sandbox.Sandbox){
		"ECS answers ExpiredTokenException once": func(sb *sandbox.Sandbox) {
			sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Op: "DescribeServices", Kind: sandbox.FaultExpiredToken, Count: 1})
		},
		"the session expired on AWS's clock, not on the provider's": func(sb *sandbox.Sandbox) {
			sb.Clock().Advance(2 * time.Hour)
		},
	}
	for name, expire := range tests {
		t.Run(name, func(t *testing.T) {
			sb, p := rig(t)
			frozen := sb.Clock().Now()
			p.Now = func() time.Time { return frozen }
			c := mustECS(t, p, "eu", euProd, "web-eu")
			expire(sb)
			if got := desired(t, c); got != 1 {
				t.Errorf("desired count %d, want 1", got)
			}
			if n := len(sb.Sessions()); n != 2 {
				t.Errorf("%d sessions, want 2: the expired one and its renewal", n)
			}
		})
	}
}

// TestARefusedAssumeRoleIsPermanentAndNamesTheRole: a role that does not
// trust the hub with this external id is an *Error that no retry can fix;
// a throttled AssumeRole is retryable.
func TestARefusedAssumeRoleIsPermanentAndNamesTheRole(t *testing.T) {
	tests := map[string]struct {
		setup     func(sb *sandbox.Sandbox, p *targets.Provider)
		retryable bool
		reason    string
	}{
		"a wrong external id": {setup: func(_ *sandbox.Sandbox, p *targets.Provider) { p.ExternalID = "deckhand-other" }, reason: "AssumeRoleDenied"},
		"no external id":      {setup: func(_ *sandbox.Sandbox, p *targets.Provider) { p.ExternalID = "" }, reason: "AssumeRoleDenied"},
		"STS throttles AssumeRole": {setup: func(sb *sandbox.Sandbox, _ *targets.Provider) {
			sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceSTS, Op: "AssumeRole", Kind: sandbox.FaultThrottle})
		}, retryable: true, reason: "AssumeRoleThrottled"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sb, p := rig(t)
			tc.setup(sb, p)
			_, err := p.ECS(context.Background(), "eu", euProd, "web-eu")
			var te *targets.Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *targets.Error", err)
			}
			if te.Retryable() != tc.retryable || te.Reason() != tc.reason {
				t.Errorf("retryable %v, reason %s; want %v, %s (%v)", te.Retryable(), te.Reason(), tc.retryable, tc.reason, err)
			}
			if !strings.Contains(err.Error(), euProd.Role) || !strings.Contains(err.Error(), "web-eu") {
				t.Errorf("error %q does not name the role and the binding", err)
			}
		})
	}
}

func TestSessionNamesFitSTS(t *testing.T) {
	long := strings.Repeat("b", 63)
	for _, b := range []string{"web", long, long[:55]} {
		got := targets.SessionName(b)
		if len(got) > 64 || !strings.HasPrefix(got, "deckhand-") {
			t.Errorf("SessionName(%d chars) = %q (%d chars), want at most 64 starting deckhand-", len(b), got, len(got))
		}
	}
	if targets.SessionName(long) == targets.SessionName(long[:62]+"c") {
		t.Errorf("two long bindings share a session name")
	}
}
