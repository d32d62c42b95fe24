package sandbox

import (
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// controlECS serves the control endpoints that drive the ECS emulator.
func (s *Sandbox) controlECS(route string, decode func(any) error) (any, error) {
	switch route {
	case "POST image-health":
		var in struct {
			Image   string `json:"image"`
			Healthy bool   `json:"healthy"`
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		s.everyECS(func(e *ecssim.ECS) { e.SetImageHealth(in.Image, in.Healthy) })
		return nil, nil
	case "POST script-image":
		var in struct {
			Image         string  `json:"image"`
			RunForSeconds float64 `json:"runForSeconds"`
			ExitCode      int32   `json:"exitCode"`
			StartFailure  string  `json:"startFailure"`
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		runFor := time.Duration(in.RunForSeconds * float64(time.Second))
		if in.RunForSeconds < 0 {
			runFor = ecssim.UntilStopped
		}
		script := ecssim.TaskScript{RunFor: runFor, ExitCode: in.ExitCode, StartFailure: in.StartFailure}
		s.everyECS(func(e *ecssim.ECS) { e.ScriptImage(in.Image, script) })
		return nil, nil
	case "POST finish-task":
		var in struct {
			TaskARN   string           `json:"taskArn"`
			ExitCodes map[string]int32 `json:"exitCodes"`
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return nil, s.ecsByTask(in.TaskARN).FinishTask(in.TaskARN, in.ExitCodes)
	case "POST capacity":
		var in struct {
			Provider  string `json:"provider"`
			Available bool   `json:"available"`
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		s.everyECS(func(e *ecssim.ECS) { e.SetCapacityAvailable(in.Provider, in.Available) })
		return nil, nil
	case "GET update-history":
		return s.ECS().UpdateHistory(), nil
	case "POST alarm-state":
		var in struct {
			AlarmName string `json:"alarmName"`
			State     string `json:"state"`
			Reason    string `json:"reason"`
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return nil, s.SetAlarmState(in.AlarmName, in.State, in.Reason)
	case "POST hook-result":
		var in struct {
			HookTargetArn string `json:"hookTargetArn"`
			Fail          bool   `json:"fail"`
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		if in.HookTargetArn == "" {
			return nil, fmt.Errorf("hook-result: hookTargetArn is required")
		}
		s.everyECS(func(e *ecssim.ECS) { e.ScriptHook(in.HookTargetArn, in.Fail) })
		return nil, nil
	}
	return nil, errNoRoute
}
