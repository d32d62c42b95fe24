package awserr

// AWS Secrets Manager's and IAM's answers Deckhand acts on. (SSM's
// GetParameters answers a missing name in InvalidParameters, not with an
// error.)

// SecretNotFound reports Secrets Manager's answer for a secret that does
// not exist.
func SecretNotFound(err error) bool { return Is(err, "ResourceNotFoundException") }

// RoleNotFound reports IAM's answer for a role that does not exist.
func RoleNotFound(err error) bool { return Is(err, "NoSuchEntity", "NoSuchEntityException") }
