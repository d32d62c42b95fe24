package awserr

// Amazon S3's answers Deckhand acts on.

// NotModified reports S3's answer to a conditional GET whose ETag still
// matches (HTTP 304, which the SDK surfaces as an error): the cache hit.
func NotModified(err error) bool { return Is(err, "NotModified") }

// NoSuchKey reports S3's answer for an object that does not exist.
func NoSuchKey(err error) bool { return Is(err, "NoSuchKey", "NotFound") }
