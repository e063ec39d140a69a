package kakaoauth

import (
	"context"
	"time"
)

// The stack's own upkeep (issue 19): the reconciler, which asks Kakao
// which accounts are still linked to the app and applies the unlinks
// whose callback was lost, and the metrics it reports.

// KakaoLinks asks Kakao, with the app's admin key, which of the given
// Kakao user ids are linked to the app now (at most 100 per call).
type KakaoLinks interface {
	Linked(ctx context.Context, kakaoIDs []int64) (map[int64]bool, error)
}

// Metrics counts things operators alarm on (CloudWatch).
type Metrics interface {
	Count(ctx context.Context, name string, value int) error
}

// ReconcileCursor is where the reconciler's pass over the mapping table
// stands: After is the last Kakao id read past (0: a pass starts), and
// PassStartedAt when the pass began.
type ReconcileCursor struct {
	After         int64
	PassStartedAt time.Time
}

// UnlinkMACAttribute is the queue message attribute that carries the
// webhook's MAC of the message body.
const UnlinkMACAttribute = "kakaoauth-mac"
