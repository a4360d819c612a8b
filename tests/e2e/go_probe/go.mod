module vdsorun.test/e2e/go_probe

go 1.19
