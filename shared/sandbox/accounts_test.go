package sandbox_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

const (
	targetAccount = "210987654321"
	targetRole    = "arn:aws:iam::210987654321:role/deckhand-target"
	targetExtID   = "deckhand-123456789012-us-west-2"
)

// as returns the sandbox's configuration with other credentials and Region.
func as(sb *sandbox.Sandbox, creds aws.CredentialsProvider, region string) aws.Config {
	cfg := sb.AWSConfig()
	cfg.Credentials = creds
	if region != "" {
		cfg.Region = region
	}
	return cfg
}

func static(akid, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(akid, secret, token)
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// targetSandbox has the target role the CDK app's target stacks create:
// trusting the home account with the external id, session tags allowed.
func targetSandbox(t *testing.T) (*sandbox.Sandbox, *sts.Client) {
	t.Helper()
	sb := sandboxtest.Start(t)
	if err := sb.PutRole(sandbox.RoleSpec{ARN: targetRole, TrustAccounts: []string{sb.Account()}, ExternalID: targetExtID, TagSession: true}); err != nil {
		t.Fatal(err)
	}
	return sb, sts.NewFromConfig(sb.AWSConfig())
}

func assume(t *testing.T, client *sts.Client, extID string, tags ...ststypes.Tag) (*sts.AssumeRoleOutput, error) {
	t.Helper()
	return client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(targetRole), RoleSessionName: aws.String("deckhand-web"),
		ExternalId: aws.String(extID), Tags: tags}, func(o *sts.Options) { o.Retryer = aws.NopRetryer{} })
}

// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
func TestSTSAssumeRoleIssuesCredentialsOfTheRolesAccount(t *testing.T) {
	sb, client := targetSandbox(t)
	me, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(me.Account) + " " + aws.ToString(me.Arn); got != "123456789012 arn:aws:iam::123456789012:root" {
		t.Errorf("GetCallerIdentity with the default credentials = %s, want the sandbox account's root", got)
	}
	out, err := assume(t, client, targetExtID, ststypes.Tag{Key: aws.String("deckhand:binding"), Value: aws.String("web-prod-eu")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	c := out.Credentials
	if got := aws.ToString(c.AccessKeyId); len(got) != 20 || got[:4] != "ASIA" {
		t.Errorf("AccessKeyId %q, want ASIA and 16 more characters, as STS issues", got)
	}
	if want := sb.Clock().Now().Add(time.Hour); !aws.ToTime(c.Expiration).Equal(want) {
		t.Errorf("Expiration %v, want the default hour on the virtual clock (%v)", c.Expiration, want)
	}
	if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::210987654321:assumed-role/deckhand-target/deckhand-web"; got != want {
		t.Errorf("AssumedRoleUser.Arn = %s, want %s", got, want)
	}
	creds := static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	who, err := sts.NewFromConfig(as(sb, creds, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(who.Account) + " " + aws.ToString(who.Arn); got != targetAccount+" "+aws.ToString(out.AssumedRoleUser.Arn) {
		t.Errorf("GetCallerIdentity with the session = %s, want the assumed role in %s", got, targetAccount)
	}
	sessions := sb.Sessions()
	want := []sandbox.Session{{AccessKeyID: aws.ToString(c.AccessKeyId), RoleARN: targetRole, SessionName: "deckhand-web", ExternalID: targetExtID,
		Tags: map[string]string{"deckhand:binding": "web-prod-eu"}, Issuer: "arn:aws:iam::123456789012:root", Expiration: aws.ToTime(c.Expiration)}}
	if diff := cmp.Diff(want, sessions); diff != "" {
		t.Errorf("Sessions (-want +got):\n%s", diff)
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html (sts:ExternalId)
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html (sts:TagSession)
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (DurationSeconds)
func TestSTSAssumeRoleRefusesWhatTheTrustPolicyOrLimitsRefuse(t *testing.T) {
	sb, client := targetSandbox(t)
	if err := sb.PutRole(sandbox.RoleSpec{ARN: "arn:aws:iam::210987654321:role/no-tags", TrustAccounts: []string{sb.Account()}}); err != nil {
		t.Fatal(err)
	}
	if err := sb.PutRole(sandbox.RoleSpec{ARN: "arn:aws:iam::210987654321:role/web-task", TrustService: "ecs-tasks.amazonaws.com"}); err != nil {
		t.Fatal(err)
	}
	tag := ststypes.Tag{Key: aws.String("deckhand:binding"), Value: aws.String("web")}
	tests := map[string]struct {
		in   sts.AssumeRoleInput
		want string
	}{
		"a wrong external id is AccessDenied": {
			sts.AssumeRoleInput{RoleArn: aws.String(targetRole), ExternalId: aws.String("guess")}, "AccessDenied"},
		"no external id is AccessDenied": {
			sts.AssumeRoleInput{RoleArn: aws.String(targetRole)}, "AccessDenied"},
		"a role that does not exist is AccessDenied, like one that does not trust the caller": {
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/missing"), ExternalId: aws.String(targetExtID)}, "AccessDenied"},
		"a role only ECS tasks may assume is AccessDenied": {
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/web-task")}, "AccessDenied"},
		"session tags on a role whose trust policy does not allow sts:TagSession are AccessDenied": {
			sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/no-tags"), Tags: []ststypes.Tag{tag}}, "AccessDenied"},
		"DurationSeconds beyond the role's MaxSessionDuration is a ValidationError": {
			sts.AssumeRoleInput{RoleArn: aws.String(targetRole), ExternalId: aws.String(targetExtID), DurationSeconds: aws.Int32(7200)}, "ValidationError"},
		"DurationSeconds under 15 minutes is a ValidationError": {
			sts.AssumeRoleInput{RoleArn: aws.String(targetRole), ExternalId: aws.String(targetExtID), DurationSeconds: aws.Int32(600)}, "ValidationError"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.in.RoleSessionName = aws.String("deckhand")
			_, err := client.AssumeRole(ctx, &tc.in)
			if got := errorCode(err); got != tc.want {
				t.Errorf("AssumeRole error %v (code %q), want %s", err, got, tc.want)
			}
		})
	}
	if n := len(sb.Sessions()); n != 0 {
		t.Errorf("%d sessions issued, want none", n)
	}
}

// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html (the ARN names the account)
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
func TestCallsWithAssumedCredentialsLandInTheRolesAccountAndSigningRegion(t *testing.T) {
	sb, client := targetSandbox(t)
	provider := stscreds.NewAssumeRoleProvider(client, targetRole, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID, o.RoleSessionName = aws.String(targetExtID), "deckhand"
	})
	eu := ecs.NewFromConfig(as(sb, aws.NewCredentialsCache(provider), "eu-central-1"))
	out, err := eu.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.Cluster.ClusterArn), "arn:aws:ecs:eu-central-1:210987654321:cluster/prod"; got != want {
		t.Errorf("cluster ARN %s, want %s", got, want)
	}
	list := func(c *ecs.Client) []string {
		t.Helper()
		l, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
		if err != nil {
			t.Fatal(err)
		}
		return l.ClusterArns
	}
	if got := list(eu); len(got) != 1 {
		t.Errorf("the target's eu-central-1 lists %v, want its cluster", got)
	}
	if got := list(ecs.NewFromConfig(sb.AWSConfig())); len(got) != 0 {
		t.Errorf("the sandbox's own account lists %v, want nothing of the target's", got)
	}
	if got := list(ecs.NewFromConfig(as(sb, aws.NewCredentialsCache(provider), "us-west-2"))); len(got) != 0 {
		t.Errorf("the target's us-west-2 lists %v, want nothing of eu-central-1", got)
	}
	if got := list(ecs.NewFromConfig(as(sb, static(targetAccount, "x", ""), "eu-central-1"))); len(got) != 1 {
		t.Errorf("an access key id of 12 digits (the account) lists %v, want the target's cluster", got)
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html (expired credentials)
// https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
func TestTemporaryCredentialsExpireOnTheVirtualClock(t *testing.T) {
	sb, client := targetSandbox(t)
	out, err := assume(t, client, targetExtID)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	target := ecs.NewFromConfig(as(sb, static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), ""))
	if _, err := target.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("ListClusters with fresh credentials: %v", err)
	}
	noToken := ecs.NewFromConfig(as(sb, static(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), ""), ""))
	if _, err := noToken.ListClusters(ctx, &ecs.ListClustersInput{}); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("ListClusters without the session token: %v, want UnrecognizedClientException", err)
	}
	sb.Clock().Advance(time.Hour)
	if _, err := target.ListClusters(ctx, &ecs.ListClustersInput{}); errorCode(err) != "ExpiredTokenException" {
		t.Errorf("ListClusters an hour later: %v, want ExpiredTokenException", err)
	}
}

// https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html (Throttling, ExpiredToken)
func TestAssumeRoleFaultsThrottleAndExpire(t *testing.T) {
	sb, client := targetSandbox(t)
	sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceSTS, Op: "AssumeRole", Kind: sandbox.FaultThrottle, Count: 1})
	sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceSTS, Op: "AssumeRole", Kind: sandbox.FaultExpiredToken, Count: 1})
	for _, want := range []string{"Throttling", "ExpiredToken"} {
		if _, err := assume(t, client, targetExtID); errorCode(err) != want {
			t.Errorf("AssumeRole: %v, want %s", err, want)
		}
	}
	if _, err := assume(t, client, targetExtID); err != nil {
		t.Errorf("AssumeRole after the faults: %v", err)
	}
}

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html (events sent to another account keep their envelope)
func TestForwardedTargetEventsReachTheHomeBus(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.ForwardTarget(sandbox.Target{Account: targetAccount, Region: "eu-central-1", Clusters: []string{"prod"}, TaskStartedBy: "deckhand/"})
	target := ecs.NewFromConfig(as(sb, static(targetAccount, "x", ""), "eu-central-1"))
	for _, c := range []string{"prod", "dev"} {
		if _, err := target.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(c)}); err != nil {
			t.Fatal(err)
		}
	}
	td, err := target.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: ecsContainers("web", "repo/web@sha256:one")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"prod", "dev"} {
		if _, err := target.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(c), ServiceName: aws.String("web"),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		for _, by := range []string{"deckhand/report", "someone"} {
			if _, err := target.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(c), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
				StartedBy: aws.String(by)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sb.Clock().Advance(2 * time.Minute)
	type seen struct{ Account, Region, Type, Cluster, StartedBy string }
	summarize := func(evs []events.Raw) map[seen]int {
		out := map[seen]int{}
		for _, ev := range evs {
			if ev.Source != events.SourceECS {
				continue
			}
			s := seen{Account: ev.Account, Region: ev.Region, Type: ev.DetailType}
			switch ev.DetailType {
			case events.DetailTypeTaskStateChange:
				d, err := events.Decode[events.ECSTaskStateChange](ev.Detail, "task")
				if err != nil {
					t.Fatal(err)
				}
				s.Cluster, s.StartedBy = d.ClusterARN, d.StartedBy
				if d.StartedBy != "deckhand/report" && d.StartedBy != "someone" {
					s.StartedBy = "service"
				}
			case events.DetailTypeDeploymentStateChange:
				s.Cluster = ev.Resources[0][:len("arn:aws:ecs:eu-central-1:210987654321:service/prod")]
			}
			out[s] = 1
		}
		return out
	}
	got := summarize(sb.Events())
	want := map[seen]int{
		{targetAccount, "eu-central-1", events.DetailTypeDeploymentStateChange, "arn:aws:ecs:eu-central-1:210987654321:service/prod", ""}:          1,
		{targetAccount, "eu-central-1", events.DetailTypeTaskStateChange, "arn:aws:ecs:eu-central-1:210987654321:cluster/prod", "deckhand/report"}: 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kinds of events on the home bus (-want +got):\n%s", diff)
	}
	if all := summarize(sb.EventsIn(targetAccount, "eu-central-1")); len(all) != 8 {
		t.Errorf("kinds of events on the target's own bus: %v, want 8 (both clusters: deployments, and tasks of the service and of both startedBy)", all)
	}
	home, own := sb.Events(), sb.EventsIn(targetAccount, "eu-central-1")
	if len(home) == 0 || !containsID(own, home[0].ID) {
		t.Errorf("a forwarded event's id is not the id it had on the target's bus")
	}
}

func containsID(evs []events.Raw, id string) bool {
	for _, ev := range evs {
		if ev.ID == id {
			return true
		}
	}
	return false
}
