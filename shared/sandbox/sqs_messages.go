package sandbox

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

type sendEntry struct {
	ID                     string `json:"Id"`
	MessageBody            string `json:"MessageBody"`
	MessageGroupID         string `json:"MessageGroupId"`
	MessageDeduplicationID string `json:"MessageDeduplicationId"`
}

type sendResult struct {
	ID               string `json:"Id,omitempty"`
	MessageID        string `json:"MessageId"`
	MD5OfMessageBody string `json:"MD5OfMessageBody"`
	SequenceNumber   string `json:"SequenceNumber,omitempty"`
}

func (q *sqsService) sendMessage(body []byte) (any, error) {
	var in struct {
		QueueURL string `json:"QueueUrl"`
		sendEntry
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	qu, err := q.byURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	res, err := q.send(qu, in.sendEntry)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (q *sqsService) sendMessageBatch(body []byte) (any, error) {
	var in struct {
		QueueURL string      `json:"QueueUrl"`
		Entries  []sendEntry `json:"Entries"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	qu, err := q.byURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	if err := checkBatch(len(in.Entries), func(i int) string { return in.Entries[i].ID }); err != nil {
		return nil, err
	}
	total := 0
	for _, e := range in.Entries {
		total += len(e.MessageBody)
	}
	if total > maxMessageSize {
		return nil, sqsError("BatchRequestTooLong", "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxMessageSize, total)
	}
	out := batchOut[sendResult]{Successful: []sendResult{}, Failed: []batchError{}}
	for _, e := range in.Entries {
		res, err := q.send(qu, e)
		if err != nil {
			ae := asAWSError(err)
			out.Failed = append(out.Failed, batchError{ID: e.ID, SenderFault: true, Code: ae.Code, Message: ae.Message})
			continue
		}
		res.ID = e.ID
		out.Successful = append(out.Successful, res)
	}
	return out, nil
}

type batchOut[T any] struct {
	Successful []T          `json:"Successful"`
	Failed     []batchError `json:"Failed"`
}

type batchError struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
}

func checkBatch(n int, id func(int) string) error {
	switch {
	case n == 0:
		return sqsError("EmptyBatchRequest", "There should be at least one entry in the request.")
	case n > 10:
		return sqsError("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10. You have sent %d.", n)
	}
	seen := map[string]bool{}
	for i := range n {
		if seen[id(i)] {
			return sqsError("BatchEntryIdsNotDistinct", "Id %s repeated.", id(i))
		}
		seen[id(i)] = true
	}
	return nil
}

// send enqueues one message, or returns the original message's id when a
// FIFO deduplication id was seen within the last five minutes.
func (q *sqsService) send(qu *queue, e sendEntry) (sendResult, error) {
	if e.MessageBody == "" {
		return sendResult{}, sqsError("MissingParameter", "The request must contain the parameter MessageBody.")
	}
	if len(e.MessageBody) > qu.maxSize {
		return sendResult{}, sqsError("InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", qu.maxSize)
	}
	sum := md5.Sum([]byte(e.MessageBody))
	res := sendResult{MD5OfMessageBody: hex.EncodeToString(sum[:])}
	now := q.s.clock.Now()
	m := &message{body: e.MessageBody, md5: res.MD5OfMessageBody, sent: now}
	if qu.fifo {
		if e.MessageGroupID == "" {
			return sendResult{}, sqsError("MissingParameter", "The request must contain the parameter MessageGroupId.")
		}
		dedup := e.MessageDeduplicationID
		if dedup == "" {
			if !qu.contentDedup {
				return sendResult{}, sqsError("InvalidParameterValue",
					"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			h := sha256.Sum256([]byte(e.MessageBody))
			dedup = hex.EncodeToString(h[:])
		}
		if d, ok := qu.dedup[dedup]; ok && now.Sub(d.at) < dedupWindow {
			res.MessageID, res.SequenceNumber = d.messageID, d.seq
			return res, nil
		}
		m.group, m.dedupID = e.MessageGroupID, dedup
		m.seq = fmt.Sprintf("%020d", q.nextID())
		res.SequenceNumber = m.seq
	}
	m.id = uuidFrom(q.nextID(), "msg")
	res.MessageID = m.id
	if qu.fifo {
		qu.dedup[m.dedupID] = dedupEntry{messageID: m.id, seq: m.seq, at: now}
		for k, d := range qu.dedup {
			if now.Sub(d.at) >= dedupWindow {
				delete(qu.dedup, k)
			}
		}
	}
	qu.messages = append(qu.messages, m)
	return res, nil
}

// uuidFrom formats a UUID-shaped id from a counter.
func uuidFrom(n uint64, kind string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s-%d", kind, n))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

type receivedMessage struct {
	MessageID     string            `json:"MessageId"`
	ReceiptHandle string            `json:"ReceiptHandle"`
	MD5OfBody     string            `json:"MD5OfBody"`
	Body          string            `json:"Body"`
	Attributes    map[string]string `json:"Attributes,omitempty"`
}

func (q *sqsService) receiveMessage(body []byte) (any, error) {
	var in struct {
		QueueURL                    string   `json:"QueueUrl"`
		AttributeNames              []string `json:"AttributeNames"`
		MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
		MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
		VisibilityTimeout           *int     `json:"VisibilityTimeout"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	qu, err := q.byURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
	}
	if max < 1 || max > 10 {
		return nil, sqsError("InvalidParameterValue",
			"Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
	}
	visibility := qu.visibility
	if in.VisibilityTimeout != nil {
		visibility = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	msgs := q.receive(qu, max, visibility)
	out := []receivedMessage{}
	names := append(in.AttributeNames, in.MessageSystemAttributeNames...)
	for _, m := range msgs {
		out = append(out, receivedMessage{MessageID: m.id, ReceiptHandle: m.receipt, MD5OfBody: m.md5,
			Body: m.body, Attributes: q.systemAttributes(m, names)})
	}
	return map[string]any{"Messages": out}, nil
}

// receive takes up to max visible messages. On a FIFO queue a message group
// with a message in flight is skipped entirely, so each group is delivered
// strictly in order. Messages received more than maxReceiveCount times move
// to the dead-letter queue instead of being delivered.
func (q *sqsService) receive(qu *queue, max int, visibility time.Duration) []*message {
	now := q.s.clock.Now()
	locked := map[string]bool{}
	if qu.fifo {
		for _, m := range qu.messages {
			if m.inFlight(now) {
				locked[m.group] = true
			}
		}
	}
	var got []*message
	for _, m := range slices.Clone(qu.messages) {
		if len(got) == max {
			break
		}
		if m.inFlight(now) || (qu.fifo && locked[m.group]) {
			continue
		}
		if qu.maxReceive > 0 && m.receiveCount >= qu.maxReceive {
			q.moveToDLQ(qu, m)
			continue
		}
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.receipt = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s|%s|%d", qu.name, m.id, q.nextID()))
		m.visibleAt = now.Add(visibility)
		got = append(got, m)
	}
	return got
}

func (q *sqsService) moveToDLQ(qu *queue, m *message) {
	qu.messages = slices.DeleteFunc(qu.messages, func(x *message) bool { return x == m })
	dlq := q.byARN(qu.dlqARN)
	if dlq == nil {
		return
	}
	moved := *m
	moved.receipt, moved.receiveCount, moved.firstReceive, moved.visibleAt = "", 0, time.Time{}, time.Time{}
	dlq.messages = append(dlq.messages, &moved)
}

func (q *sqsService) systemAttributes(m *message, names []string) map[string]string {
	all := map[string]string{
		"SenderId":                         q.account,
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
	}
	if m.group != "" {
		all["MessageGroupId"] = m.group
		all["MessageDeduplicationId"] = m.dedupID
		all["SequenceNumber"] = m.seq
	}
	out := map[string]string{}
	for _, n := range names {
		if n == "All" {
			return all
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// byReceipt finds the message a receipt handle was issued for.
func (q *sqsService) byReceipt(qu *queue, handle string) (*message, error) {
	raw, err := base64.RawURLEncoding.DecodeString(handle)
	parts := strings.Split(string(raw), "|")
	if err != nil || len(parts) != 3 || parts[0] != qu.name {
		return nil, sqsError("ReceiptHandleIsInvalid", "The input receipt handle \"%s\" is not a valid receipt handle.", handle)
	}
	for _, m := range qu.messages {
		if m.id == parts[1] {
			return m, nil
		}
	}
	return nil, nil // already deleted: deleting again succeeds
}
