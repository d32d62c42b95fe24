package awserr

import "strings"

// Amazon ECS's answers Deckhand acts on.

// TaskDefinitionNotFound reports ECS's answer to DescribeTaskDefinition for
// a family with no active revision (or an unknown revision): a
// ClientException "Unable to describe task definition.".
func TaskDefinitionNotFound(err error) bool {
	return Code(err) == "ClientException" && strings.Contains(message(err), "Unable to describe task definition")
}

// TaskDefinitionInactive reports ECS refusing to start a deployment or a
// task of a revision that is no longer ACTIVE ("TaskDefinition is
// inactive"): retention (or a person) deregistered it after it was read.
func TaskDefinitionInactive(err error) bool {
	return Code(err) == "ClientException" && strings.Contains(message(err), "TaskDefinition is inactive")
}

// ClusterNotFound reports ECS's answer for a cluster that does not exist.
func ClusterNotFound(err error) bool { return Is(err, "ClusterNotFoundException") }

// TokenConflict reports ECS refusing a RunTask client token that was used
// before with other parameters: the run it names was started already.
func TokenConflict(err error) bool {
	return Is(err, "ConflictException", "IdempotentParameterMismatchException") ||
		(Code(err) != "" && strings.Contains(message(err), "clientToken is already in use"))
}
