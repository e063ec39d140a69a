package userpool

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth/shared/cognito"
)

// Apply carries out the plan: it reads the pool again and stops if anything
// changed since the plan was made (Cognito has no conditional update, so
// this is as close as a writer can get to one), adds custom:kakao_id, sends
// the UpdateUserPool request, and reads the pool once more to check that
// exactly the planned changes happened. It returns the configuration as
// read afterwards.
func Apply(ctx context.Context, c Cognito, p *Plan) (*Snapshot, error) {
	id := p.PoolID()
	now, err := Read(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if moved := diff(snapshotSettings(p.Read), snapshotSettings(now), volatile); len(moved) > 0 {
		return nil, &ChangedError{PoolID: id, When: "since it was read; nothing was changed, run the command again", Changes: moved}
	}
	if p.AddKakaoID {
		_, err := c.AddCustomAttributes(ctx, &cip.AddCustomAttributesInput{
			UserPoolId:       &id,
			CustomAttributes: []types.SchemaAttributeType{kakaoIDSchema()},
		})
		if err != nil {
			return nil, fmt.Errorf("adding %s to user pool %s (nothing else was changed): %w", cognito.AttrKakaoID, id, err)
		}
	}
	if p.Request != nil {
		if _, err := c.UpdateUserPool(ctx, p.Request); err != nil {
			done := "nothing was changed"
			if p.AddKakaoID {
				done = cognito.AttrKakaoID + " was added, the triggers were not changed"
			}
			return nil, fmt.Errorf("updating user pool %s (%s): %w", id, done, err)
		}
	}
	after, err := Read(ctx, c, id)
	if err != nil {
		return nil, fmt.Errorf("the change was sent; reading the pool back: %w", err)
	}
	if err := p.verify(after); err != nil {
		return after, err
	}
	return after, nil
}

// verify compares the pool as read afterwards with the plan's expectation.
func (p *Plan) verify(after *Snapshot) error {
	added := "SchemaAttributes[" + cognito.AttrKakaoID + "]"
	ignore := func(path string) bool {
		if volatile(path) {
			return true
		}
		for leaf := range reshaped {
			if path == leaf {
				return true
			}
		}
		return p.AddKakaoID && strings.HasPrefix(path, added+".")
	}
	if changes := diff(snapshotSettings(p.Expected), snapshotSettings(after), ignore); len(changes) > 0 {
		return &ChangedError{PoolID: p.PoolID(), Changes: changes,
			When: "in ways the request did not ask for (the triggers were changed as shown; the settings below are now as " +
				"read back, the values before the arrows are what the pool had: put them back by hand, -backup keeps them all)"}
	}
	if p.AddKakaoID {
		a := kakaoIDAttribute(&after.Pool)
		if a == nil {
			return fmt.Errorf("user pool %s: %s was added but is not in the pool's schema", p.PoolID(), cognito.AttrKakaoID)
		}
		if problem := checkKakaoID(a); problem != "" {
			return fmt.Errorf("user pool %s: %s was added, but %s", p.PoolID(), cognito.AttrKakaoID, problem)
		}
	}
	return nil
}

// ChangedError is a pool whose configuration differs from what was
// expected.
type ChangedError struct {
	PoolID, When string
	Changes      []Change
}

func (e *ChangedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "user pool %s changed %s:", e.PoolID, e.When)
	for _, c := range e.Changes {
		fmt.Fprintf(&b, "\n  %s: %s -> %s", c.Setting, show(c.Before), show(c.After))
	}
	return b.String()
}

func show(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// Name is the pool's name as read.
func (s *Snapshot) Name() string { return aws.ToString(s.Pool.Name) }
