package taskdef

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Rendering is bounded so that a hostile template (a 1 KB one such as
// {{ printf "%0999999d" 1 }} repeated) fails fast with ErrTooLarge instead
// of allocating gigabytes before the 64 KiB check:
//
//   - a template may be at most MaxTemplateSize bytes;
//   - the strings of the rendered document may hold at most MaxSize bytes in
//     all, charged as they are written;
//   - every function result is bounded from its arguments before it is
//     made (no larger than what the document may still hold), and all
//     results together, used or not, may take at most maxWork bytes.
//
// So one Render allocates at most a small multiple of MaxTemplateSize +
// maxWork, whatever the template (BenchmarkRenderHostile shows the ratio).

// MaxTemplateSize is the largest template Render reads: 16 times what a
// rendered definition may hold, room for indentation, describe output's
// extra fields and long placeholders.
const MaxTemplateSize = 16 * MaxSize

// maxWork bounds the bytes all function calls of one render may produce,
// used or not: four times what the document may hold.
const maxWork = 4 * MaxSize

// ErrTooLarge is matched by errors.Is when a template, or what it renders,
// is larger than a task definition may be.
var ErrTooLarge = errors.New("too large for a task definition")

// sizeError is a budget exceeded; it says which.
type sizeError struct{ msg string }

func (e *sizeError) Error() string        { return e.msg }
func (e *sizeError) Is(target error) bool { return target == ErrTooLarge }

// budget is what one render may still produce.
type budget struct {
	out  int // bytes the rendered strings may still hold
	work int // bytes function results may still take
}

func newBudget() *budget { return &budget{out: MaxSize, work: maxWork} }

// fits checks, before a value of up to n bytes is made, that it could be
// used: it fits what the document may still hold and the work left.
func (b *budget) fits(n int) error {
	if n > b.out {
		return &sizeError{fmt.Sprintf("would produce up to %d bytes; a rendered task definition may have at most %d (64 KiB), %d of them left", n, MaxSize, b.out)}
	}
	if n > b.work {
		return &sizeError{fmt.Sprintf("would produce up to %d bytes; the placeholders of one template may produce at most %d in all", n, maxWork)}
	}
	return nil
}

// spend charges n bytes written into the document.
func (b *budget) spend(n int) error {
	if n > b.out {
		return &sizeError{fmt.Sprintf("the rendered strings are larger than a task definition may be: at most %d bytes (64 KiB)", MaxSize)}
	}
	b.out -= n
	return nil
}

// use charges n bytes of a function's result.
func (b *budget) use(n int) error {
	if n > b.work {
		b.work = 0
		return &sizeError{fmt.Sprintf("the placeholders of one template may produce at most %d bytes in all", maxWork)}
	}
	b.work -= n
	return nil
}

// valueSize bounds the length of fmt's %v of a value a placeholder holds.
func valueSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case map[string]string:
		n := len("map[]")
		for k, e := range v {
			n += len(k) + len(e) + 2
		}
		return n
	case map[string]Image:
		n := len("map[]")
		for k, e := range v {
			n += len(k) + 2 + valueSize(e)
		}
		return n
	case Image:
		// {registry repository tag digest pushed-at}; a time prints in
		// at most about 60 bytes, more with a long zone name.
		return len(v.Registry) + len(v.Repository) + len(v.Tag) + len(v.Digest) + 128
	case view:
		return len(v.Account) + len(v.Region) + len(v.Cluster) + len(v.Service) + len(v.Image) + len(v.Tag) +
			len(v.Digest) + len(v.Repository) + len(v.Registry) + valueSize(v.Images) + valueSize(v.Vars) + 16
	case float64:
		return 330 // %f of 1e308 has 309 digits
	}
	return 32 // bool, int (%b of a negative int has 65 bytes), no value
}

// valueLeaves bounds how many scalars fmt prints for a value: width and
// precision pad each of them.
func valueLeaves(v any) int {
	switch v := v.(type) {
	case map[string]string:
		return 2*len(v) + 1
	case map[string]Image:
		return len(v) * (1 + valueLeaves(Image{}))
	case Image:
		return 8 // four strings and a time (three fields when not a Stringer)
	case view:
		return 9 + valueLeaves(v.Images) + valueLeaves(v.Vars)
	}
	return 1
}

// sumSizes bounds a function whose result is no longer than its arguments
// printed.
func sumSizes(args []any) int {
	n := 0
	for _, a := range args {
		n += valueSize(a)
	}
	return n
}

// printBound bounds fmt.Sprint: the operands and a space between each two.
func printBound(args []any) int { return sumSizes(args) + len(args) }

// replaceBound is the exact length of strings.ReplaceAll(s, old, new).
func replaceBound(args []any) int {
	old, new, s := args[0].(string), args[1].(string), args[2].(string)
	n := strings.Count(s, old)
	if old == "" {
		n = utf8.RuneCountInString(s) + 1
	}
	return len(s) + n*(len(new)-len(old))
}

// printfBound bounds the length of fmt.Sprintf(format, args...) without
// formatting. It reads each directive as fmt does (flags, [n] argument
// indexes, width and precision as digits or *) and charges each verb its
// width and precision and 64 bytes (fmt's error forms such as
// "%!d(string=…)") for every scalar of the largest operand, and six bytes
// per byte of it (% #x writes "0x41 " for one byte). A *
// may take any int operand, so it counts as the largest. Operands may be
// printed once more as %!(EXTRA …).
func printfBound(format string, args []any) int {
	size, leaves, star, extra := 0, 1, 0, 0
	for _, a := range args {
		size, leaves = max(size, valueSize(a)), max(leaves, valueLeaves(a))
		if v, ok := a.(int); ok {
			star = max(star, min(v, 1<<30), min(-v, 1<<30)) // fmt refuses a MinInt width
		}
		extra += 6*valueSize(a) + 64*valueLeaves(a)
	}
	n := len(format) + extra
	for i := 0; i < len(format); {
		if format[i] != '%' {
			i++
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("#0+- ", format[i]) >= 0 {
			i++
		}
		var width, prec int
		i = skipArgIndex(format, i)
		if i < len(format) && format[i] == '*' {
			width, i = star, i+1
		} else {
			width, i = parseNum(format, i)
		}
		if i+1 < len(format) && format[i] == '.' {
			i = skipArgIndex(format, i+1)
			if i < len(format) && format[i] == '*' {
				prec, i = star, i+1
			} else {
				prec, i = parseNum(format, i)
			}
		}
		i = skipArgIndex(format, i)
		if i >= len(format) {
			n += len("%!(NOVERB)")
			break
		}
		verb, w := utf8.DecodeRuneInString(format[i:])
		i += w
		if verb != '%' { // %% prints one '%', ignoring width and precision
			n += leaves*(width+prec+64) + 6*size + 64
		}
	}
	return n
}

// skipArgIndex skips an explicit argument index [n] as fmt reads it.
func skipArgIndex(format string, i int) int {
	if i >= len(format) || format[i] != '[' {
		return i
	}
	if end := strings.IndexByte(format[i:], ']'); end >= 0 {
		return i + end + 1
	}
	return i + 1 // fmt skips the '[' and reports BADINDEX
}

// parseNum reads a run of digits as fmt does, saturating where fmt gives
// up (over a million), so a bound stays an upper bound.
func parseNum(s string, i int) (int, int) {
	n := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		n = min(n*10+int(s[i]-'0'), 1<<30)
	}
	return n, i
}
