package sandbox_test

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ecsContainers is one essential container named name running image.
func ecsContainers(name, image string) []ecstypes.ContainerDefinition {
	return []ecstypes.ContainerDefinition{{Name: aws.String(name), Image: aws.String(image), Essential: aws.Bool(true)}}
}
