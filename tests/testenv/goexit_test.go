package testenv

import "runtime"

func runtimeGoexit() { runtime.Goexit() }
