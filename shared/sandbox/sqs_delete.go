package sandbox

import (
	"slices"
	"time"
)

func (q *sqsService) deleteMessage(body []byte) (any, error) {
	var in struct {
		QueueURL      string `json:"QueueUrl"`
		ReceiptHandle string `json:"ReceiptHandle"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	qu, err := q.byURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	return struct{}{}, q.delete(qu, in.ReceiptHandle)
}

// delete removes the message a receipt handle names. On a FIFO queue a
// handle superseded by a later receive has expired and is refused.
func (q *sqsService) delete(qu *queue, handle string) error {
	m, err := q.byReceipt(qu, handle)
	if err != nil || m == nil {
		return err
	}
	if qu.fifo && m.receipt != handle {
		return sqsError("InvalidParameterValue",
			"Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", handle)
	}
	qu.messages = slices.DeleteFunc(qu.messages, func(x *message) bool { return x == m })
	return nil
}

type batchID struct {
	ID string `json:"Id"`
}

func (q *sqsService) deleteMessageBatch(body []byte) (any, error) {
	var in struct {
		QueueURL string `json:"QueueUrl"`
		Entries  []struct {
			ID            string `json:"Id"`
			ReceiptHandle string `json:"ReceiptHandle"`
		} `json:"Entries"`
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
	out := batchOut[batchID]{Successful: []batchID{}, Failed: []batchError{}}
	for _, e := range in.Entries {
		if err := q.delete(qu, e.ReceiptHandle); err != nil {
			ae := asAWSError(err)
			out.Failed = append(out.Failed, batchError{ID: e.ID, SenderFault: true, Code: ae.Code, Message: ae.Message})
			continue
		}
		out.Successful = append(out.Successful, batchID{e.ID})
	}
	return out, nil
}

func (q *sqsService) changeMessageVisibility(body []byte) (any, error) {
	var in struct {
		QueueURL          string `json:"QueueUrl"`
		ReceiptHandle     string `json:"ReceiptHandle"`
		VisibilityTimeout int    `json:"VisibilityTimeout"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	qu, err := q.byURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	m, err := q.byReceipt(qu, in.ReceiptHandle)
	if err != nil {
		return nil, err
	}
	now := q.s.clock.Now()
	if m == nil || m.receipt != in.ReceiptHandle || !m.inFlight(now) {
		return nil, sqsError("MessageNotInflight", "Message does not exist or is not available for visibility timeout change.")
	}
	if in.VisibilityTimeout < 0 || in.VisibilityTimeout > 43200 {
		return nil, sqsError("InvalidParameterValue", "Value %d for parameter VisibilityTimeout is invalid.", in.VisibilityTimeout)
	}
	m.visibleAt = now.Add(time.Duration(in.VisibilityTimeout) * time.Second)
	return struct{}{}, nil
}

// peek returns the bodies of a queue's messages without receiving them.
func (q *sqsService) peek(url string) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu, err := q.byURL(url)
	if err != nil {
		return nil
	}
	out := []string{}
	for _, m := range qu.messages {
		out = append(out, m.body)
	}
	return out
}
