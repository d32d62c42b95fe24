package awsproto

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
)

// WriteQueryError writes e in the awsQuery protocol's error shape (STS, IAM,
// ELBv2, ...): an ErrorResponse document whose Type is Sender for 4xx and
// Receiver for 5xx.
func WriteQueryError(w http.ResponseWriter, e *Error, requestID string) {
	type detail struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	writeXML(w, e.Status, struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Error     detail   `xml:"Error"`
		RequestID string   `xml:"RequestId"`
	}{Error: detail{typ, e.Code, e.Message}, RequestID: requestID})
}

// WriteEC2Error writes e in the ec2Query protocol's error shape: a Response
// document with an Errors list and a RequestID.
func WriteEC2Error(w http.ResponseWriter, e *Error, requestID string) {
	type item struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	writeXML(w, e.Status, struct {
		XMLName   xml.Name `xml:"Response"`
		Errors    []item   `xml:"Errors>Error"`
		RequestID string   `xml:"RequestID"`
	}{Errors: []item{{e.Code, e.Message}}, RequestID: requestID})
}

// WriteRESTJSONError writes e in the restJson1 protocol's error shape: the
// X-Amzn-Errortype header plus {"message": msg}.
func WriteRESTJSONError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", e.Code)
	w.WriteHeader(e.Status)
	body, _ := json.Marshal(map[string]string{"message": e.Message})
	_, _ = w.Write(body)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}
