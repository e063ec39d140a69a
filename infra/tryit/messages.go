package tryit

import (
	"net/http"

	"github.com/kakaoauth/kakaoauth"
)

// MessagesPath serves the broker's error codes with the message to show a
// person in English and in Korean, from errors.go (the one source), so
// that the page never keeps a copy of its own.
const MessagesPath = "/tryit/api/messages"

// message is one code's answer, as the page shows it.
type message struct {
	Status int    `json:"status"`
	En     string `json:"en"`
	Ko     string `json:"ko"`
}

func (p *Page) messages(w http.ResponseWriter, _ *http.Request) {
	codes := map[string]message{}
	for _, o := range kakaoauth.PublicOutcomes() {
		codes[o.Code] = message{Status: o.Status, En: o.Message, Ko: o.MessageKo}
	}
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, map[string]any{"codes": codes})
}
