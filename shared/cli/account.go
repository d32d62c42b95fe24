package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// DiscoverAccount reads the AWS account id from the ARN of one of the
// manifest's clusters: it needs no permission beyond what the CLI uses
// anyway, and it works against the sandbox, which has no STS.
func (e *Env) DiscoverAccount(ctx context.Context) (string, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return "", err
	}
	clusters := m.Clusters()
	if len(clusters) == 0 {
		return "", &UsageError{Msg: "cannot tell the AWS account: the manifest names no cluster; pass --account"}
	}
	out, err := e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: clusters})
	if err != nil {
		return "", fmt.Errorf("describe clusters %s (to learn the account; or pass --account): %w", strings.Join(clusters, ", "), err)
	}
	for _, c := range out.Clusters {
		if acct := accountOf(aws.ToString(c.ClusterArn)); acct != "" {
			return acct, nil
		}
	}
	for _, f := range out.Failures {
		if acct := accountOf(aws.ToString(f.Arn)); acct != "" {
			return acct, nil
		}
	}
	return "", errors.New("cannot tell the AWS account from the clusters' ARNs; pass --account")
}

// accountOf returns the account field of an ARN.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || len(parts[4]) != 12 {
		return ""
	}
	return parts[4]
}
