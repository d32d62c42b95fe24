package awserr

// Amazon ECR's answers Deckhand acts on.

// ImageNotFound reports ECR's answer for an image or repository that does
// not exist.
func ImageNotFound(err error) bool {
	return Is(err, "ImageNotFoundException", "RepositoryNotFoundException")
}

// RepositoryNotFound reports ECR's answer for a repository that does not
// exist.
func RepositoryNotFound(err error) bool { return Is(err, "RepositoryNotFoundException") }
