package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sqsService emulates SQS over its JSON protocol: standard queues simply,
// and FIFO queues with message groups, deduplication and redrive to a
// dead-letter queue. All timing runs on the virtual clock.
type sqsService struct {
	s               *Sandbox
	account, region string

	mu     sync.Mutex
	queues map[string]*queue // by name
	seq    uint64            // message ids, receipt handles, sequence numbers
}

type queue struct {
	name, arn    string
	fifo         bool
	contentDedup bool
	visibility   time.Duration
	maxSize      int    // MaximumMessageSize in bytes
	maxReceive   int    // 0: no redrive
	dlqARN       string // redrive target
	attrs        map[string]string
	created      time.Time
	messages     []*message // send order
	dedup        map[string]dedupEntry
}

type dedupEntry struct {
	messageID, seq string
	at             time.Time
}

type message struct {
	id, body, md5      string
	group, dedupID     string
	seq                string
	sent, firstReceive time.Time
	receiveCount       int
	receipt            string    // latest receipt handle, "" before the first receive
	visibleAt          time.Time // in flight until then
}

func (m *message) inFlight(now time.Time) bool { return m.receipt != "" && now.Before(m.visibleAt) }

// dedupWindow is how long SQS FIFO remembers a deduplication id.
const dedupWindow = 5 * time.Minute

// maxMessageSize is SQS's message size quota since August 2025 (1 MiB, up
// from 256 KiB): the largest and the default MaximumMessageSize of a queue,
// and the largest total of one SendMessageBatch. MaximumMessageSize may be
// set as low as 1 KiB.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
const (
	maxMessageSize = 1 << 20
	minMessageSize = 1 << 10
)

func newSQS(s *Sandbox, account, region string) *sqsService {
	return &sqsService{s: s, account: account, region: region, queues: map[string]*queue{}}
}

type sqsOp func(q *sqsService, body []byte) (any, error)

var sqsOps = map[string]sqsOp{
	"CreateQueue":             (*sqsService).createQueue,
	"GetQueueUrl":             (*sqsService).getQueueURL,
	"GetQueueAttributes":      (*sqsService).getQueueAttributes,
	"ListQueues":              (*sqsService).listQueues,
	"PurgeQueue":              (*sqsService).purgeQueue,
	"SendMessage":             (*sqsService).sendMessage,
	"SendMessageBatch":        (*sqsService).sendMessageBatch,
	"ReceiveMessage":          (*sqsService).receiveMessage,
	"DeleteMessage":           (*sqsService).deleteMessage,
	"DeleteMessageBatch":      (*sqsService).deleteMessageBatch,
	"ChangeMessageVisibility": (*sqsService).changeMessageVisibility,
}

func (q *sqsService) handle(_ context.Context, op string, body []byte) (any, error) {
	f, ok := sqsOps[op]
	if !ok {
		return nil, sqsError("UnsupportedOperation", "operation %s is not supported by the sandbox", op)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return f(q, body)
}

func (q *sqsService) queueURL(name string) string {
	ep := q.s.Endpoint()
	if ep == "" {
		ep = "http://127.0.0.1"
	}
	return fmt.Sprintf("%s/%s/%s", ep, q.account, name)
}

// byURL finds a queue by its URL. Only the last path segment counts, so URLs
// built for another host or port still resolve.
func (q *sqsService) byURL(url string) (*queue, error) {
	name := url[strings.LastIndex(url, "/")+1:]
	if qu := q.queues[name]; qu != nil && url != "" {
		return qu, nil
	}
	return nil, sqsError("QueueDoesNotExist", "The specified queue does not exist.")
}

func (q *sqsService) byARN(arn string) *queue {
	for _, qu := range q.queues {
		if qu.arn == arn {
			return qu
		}
	}
	return nil
}

func (q *sqsService) nextID() uint64 { q.seq++; return q.seq }

type createQueueInput struct {
	QueueName  string            `json:"QueueName"`
	Attributes map[string]string `json:"Attributes"`
}

func (q *sqsService) createQueue(body []byte) (any, error) {
	var in createQueueInput
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, sqsError("MissingParameter", "The request must contain the parameter QueueName.")
	}
	qu, err := q.newQueue(in.QueueName, in.Attributes)
	if err != nil {
		return nil, err
	}
	if old := q.queues[in.QueueName]; old != nil {
		for k, v := range qu.attrs {
			if old.attrs[k] != v {
				return nil, sqsError("QueueNameExists", "A queue already exists with the same name and a different value for attribute %s", k)
			}
		}
		return map[string]string{"QueueUrl": q.queueURL(in.QueueName)}, nil
	}
	q.queues[in.QueueName] = qu
	return map[string]string{"QueueUrl": q.queueURL(in.QueueName)}, nil
}

// newQueue validates a queue's attributes.
func (q *sqsService) newQueue(name string, attrs map[string]string) (*queue, error) {
	qu := &queue{
		name: name, arn: fmt.Sprintf("arn:aws:sqs:%s:%s:%s", q.region, q.account, name),
		visibility: 30 * time.Second, maxSize: maxMessageSize, attrs: map[string]string{}, created: q.s.clock.Now(),
		dedup: map[string]dedupEntry{},
	}
	for k, v := range attrs {
		qu.attrs[k] = v
		var err error
		switch k {
		case "FifoQueue":
			qu.fifo, err = strconv.ParseBool(v)
		case "ContentBasedDeduplication":
			qu.contentDedup, err = strconv.ParseBool(v)
		case "VisibilityTimeout":
			var n int
			n, err = strconv.Atoi(v)
			qu.visibility = time.Duration(n) * time.Second
		case "MaximumMessageSize":
			qu.maxSize, err = strconv.Atoi(v)
			if err == nil && (qu.maxSize < minMessageSize || qu.maxSize > maxMessageSize) {
				err = fmt.Errorf("must be between %d and %d bytes", minMessageSize, maxMessageSize)
			}
		case "RedrivePolicy":
			var p struct {
				DeadLetterTargetArn string `json:"deadLetterTargetArn"`
				MaxReceiveCount     any    `json:"maxReceiveCount"`
			}
			if err = json.Unmarshal([]byte(v), &p); err == nil {
				qu.dlqARN = p.DeadLetterTargetArn
				qu.maxReceive, err = strconv.Atoi(fmt.Sprint(p.MaxReceiveCount))
			}
			if err == nil && (q.byARN(qu.dlqARN) == nil || qu.maxReceive < 1) {
				err = fmt.Errorf("dead-letter target %s does not exist or maxReceiveCount < 1", qu.dlqARN)
			}
		}
		if err != nil {
			return nil, sqsError("InvalidAttributeValue", "Invalid value for the parameter %s: %v", k, err)
		}
	}
	if qu.fifo != strings.HasSuffix(name, ".fifo") {
		return nil, sqsError("InvalidParameterValue", "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix")
	}
	if dlq := q.byARN(qu.dlqARN); dlq != nil && dlq.fifo != qu.fifo {
		return nil, sqsError("InvalidParameterValue", "The dead-letter queue of a FIFO queue must also be of type FIFO and vice versa.")
	}
	return qu, nil
}

func (q *sqsService) getQueueURL(body []byte) (any, error) {
	var in struct {
		QueueName string `json:"QueueName"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if q.queues[in.QueueName] == nil {
		return nil, sqsError("QueueDoesNotExist", "The specified queue does not exist.")
	}
	return map[string]string{"QueueUrl": q.queueURL(in.QueueName)}, nil
}

func (q *sqsService) listQueues(body []byte) (any, error) {
	var in struct {
		QueueNamePrefix string `json:"QueueNamePrefix"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	urls := []string{}
	for name := range q.queues {
		if strings.HasPrefix(name, in.QueueNamePrefix) {
			urls = append(urls, q.queueURL(name))
		}
	}
	slices.Sort(urls)
	return map[string][]string{"QueueUrls": urls}, nil
}

func (q *sqsService) getQueueAttributes(body []byte) (any, error) {
	var in struct {
		QueueURL       string   `json:"QueueUrl"`
		AttributeNames []string `json:"AttributeNames"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	qu, err := q.byURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	now := q.s.clock.Now()
	all := map[string]string{
		"QueueArn":                              qu.arn,
		"VisibilityTimeout":                     strconv.Itoa(int(qu.visibility / time.Second)),
		"CreatedTimestamp":                      strconv.FormatInt(qu.created.Unix(), 10),
		"LastModifiedTimestamp":                 strconv.FormatInt(qu.created.Unix(), 10),
		"MaximumMessageSize":                    strconv.Itoa(qu.maxSize),
		"MessageRetentionPeriod":                "345600",
		"DelaySeconds":                          "0",
		"ReceiveMessageWaitTimeSeconds":         "0",
		"ApproximateNumberOfMessages":           "0",
		"ApproximateNumberOfMessagesNotVisible": "0",
		"ApproximateNumberOfMessagesDelayed":    "0",
	}
	if qu.fifo {
		all["FifoQueue"] = "true"
		all["ContentBasedDeduplication"] = strconv.FormatBool(qu.contentDedup)
	}
	if v, ok := qu.attrs["RedrivePolicy"]; ok {
		all["RedrivePolicy"] = v
	}
	visible, inFlight := 0, 0
	for _, m := range qu.messages {
		if m.inFlight(now) {
			inFlight++
		} else {
			visible++
		}
	}
	all["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(inFlight)
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			out = all
			break
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return map[string]any{"Attributes": out}, nil
}

func (q *sqsService) purgeQueue(body []byte) (any, error) {
	var in struct {
		QueueURL string `json:"QueueUrl"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	qu, err := q.byURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	qu.messages = nil
	return struct{}{}, nil
}
