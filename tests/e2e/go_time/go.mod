module vdsorun.test/go_time

go 1.19
