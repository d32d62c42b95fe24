package awserr

// AWS STS's answers, and the answers of any service to temporary
// credentials, that Deckhand acts on.

// expiredCodes are the codes a request signed with expired temporary
// credentials is refused with: ExpiredTokenException in the JSON
// protocols (ECS, ECR, EventBridge), ExpiredToken in awsQuery (STS, IAM)
// and S3.
var expiredCodes = []string{"ExpiredTokenException", "ExpiredToken"}

// ExpiredCodes returns the codes ExpiredToken matches, for a retryer.
func ExpiredCodes() []string { return append([]string(nil), expiredCodes...) }

// ExpiredToken reports whether AWS refused the call because its temporary
// credentials expired: get new ones and try again.
func ExpiredToken(err error) bool { return Is(err, expiredCodes...) }

// AccessDenied reports whether AWS refused the caller: for STS AssumeRole,
// a role that does not exist or does not trust the caller with this
// external id and these session tags (STS does not tell them apart).
func AccessDenied(err error) bool { return Is(err, "AccessDenied", "AccessDeniedException") }
