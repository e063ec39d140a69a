package userpool

import (
	"fmt"
	"io"

	"github.com/kakaoauth/kakaoauth/shared/cognito"
)

// Render writes the plan as a person reads it before saying yes: each
// setting that changes with its value before (-) and after (+), then what
// stays. It shows the same changes Apply checks for afterwards.
func (p *Plan) Render(w io.Writer) {
	fmt.Fprintf(w, "kakaoauth pool %s: user pool %s (%s)\n\n", p.Action, p.PoolID(), p.Read.Name())
	changes := p.Changes()
	if len(changes) == 0 {
		if p.Action == "attach" {
			fmt.Fprintf(w, "Nothing to change: kakaoauth's triggers are in place and %s exists.\n", cognito.AttrKakaoID)
		} else {
			fmt.Fprintln(w, "Nothing to change: no trigger holds a kakaoauth function.")
		}
	}
	for _, c := range changes {
		after := show(c.After)
		if c.Setting == "SchemaAttributes["+cognito.AttrKakaoID+"]" {
			after += " (AddCustomAttributes)"
		}
		fmt.Fprintf(w, "  %s\n  - %s\n  + %s\n", c.Setting, show(c.Before), after)
	}
	for _, o := range p.Others {
		fmt.Fprintf(w, "  left alone: %s holds %s, not kakaoauth's %s\n", o.Slot, o.Before, o.After)
	}
	if len(changes) > 0 {
		fmt.Fprintln(w)
		if p.Request != nil {
			fmt.Fprintf(w, "Everything else is sent back exactly as read: %d other settings", p.Unchanged())
			if n := p.OtherTriggers(); n > 0 {
				fmt.Fprintf(w, " and %d trigger\nsettings of the pool's own", n)
			}
			fmt.Fprintln(w, ". Nothing else changes.")
		} else {
			fmt.Fprintln(w, "No UpdateUserPool request: the triggers are already in place.")
		}
	}
	if p.Action == "detach" {
		fmt.Fprintf(w, "%s stays in the pool's schema: Cognito cannot remove an attribute.\n", cognito.AttrKakaoID)
	}
}
