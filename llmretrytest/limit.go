package llmretrytest

type limiter struct{}

func (l *limiter) admit(r Request, d Dialect) *Step { return nil }
