package awserr

// Amazon ECR's answers Deckhand acts on.

// ImageNotFound reports ECR's answer for an image or repository that does
// not exist.
func ImageNotFound(err error) bool {
	return Is(err, "ImageNotFoundException", "RepositoryNotFoundException")
}

// ScanNotFound reports ECR's answer for an image that has no scan (yet):
// DescribeImageScanFindings before a scan started, or without scanning.
func ScanNotFound(err error) bool { return Is(err, "ScanNotFoundException") }

// RepositoryNotFound reports ECR's answer for a repository that does not
// exist.
func RepositoryNotFound(err error) bool { return Is(err, "RepositoryNotFoundException") }
