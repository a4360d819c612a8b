/* The code of the trampoline page that patched legacy call sites call instead of the vsyscall
 * page (vsyscall/trampoline.h). It is data to vdsorun: the patcher copies these bytes into a
 * page of the program, fills the three slots with the addresses of the injected vDSO's
 * functions and appends one small stub per patched site:
 *
 *     stub:  pushfq                      the caller's flags, before the counter changes them
 *            lock incq counter(%rip)     this site's call count (the supervisor reads it)
 *            jmp   emulated_<entry>      (native stubs: popfq first, then jmp native_<entry>)
 *
 * Emulated routines give what the kernel's emulate_vsyscall() gives: rax = the result, every
 * other register and the flags preserved, rip = the return address, rsp += 8. They call the
 * vDSO function with buffers on their own stack and copy the result out afterwards, so the
 * only instructions that can fault on a bad user pointer are the six copies labelled copy_*.
 * There the supervisor rewinds the call (registers from the frame, rip = the entry, rsp at the
 * return address) and lets it go the slow way, through the page, where the kernel's emulation
 * or vdsorun's handles it exactly as an unpatched call.
 *
 * At every copy the frame is at a fixed place (the layout trampoline.h names), from rsp up:
 *   0..31 the buffers   32 r11   40 r10   48 r9   56 r8   64 rdi   72 rsi   80 rdx   88 rcx
 *   96 rax (the caller's)   104 rflags (pushed by the stub)   112 the return address
 * The injected vDSO is built with -mgeneral-regs-only and needs no stack alignment; it
 * preserves rbx, rbp and r12-r15 as the ABI says.
 *
 * The flags come back without popfq, which costs as much as the rest of the routine: only
 * the arithmetic flags can have changed (DF is clear by the ABI, the vDSO touches no other),
 * and sahf restores SF ZF AF PF CF from the saved low byte while `add $0x7f` sets OF.
 *
 * Native routines are the page's own code (`mov $nr,%rax; syscall`), with rcx set to what the
 * page's syscall leaves in it (entry + 9): a real syscall, whose bad pointers give -EFAULT. */

#define GETTIMEOFDAY 0xffffffffff600000
#define TIME 0xffffffffff600400
#define GETCPU 0xffffffffff600800

        .section .rodata, "a"
        .balign 64
        .globl vsyscall_trampoline_template
        .globl vsyscall_trampoline_template_end
        .globl vsyscall_trampoline_offsets
vsyscall_trampoline_template:
slot_gettimeofday:      .quad 0
slot_time:              .quad 0
slot_getcpu:            .quad 0
        .balign 16

.macro SAVE
        pushq %rax
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        subq $32, %rsp
.endm


emulated_gettimeofday:
        SAVE
        movq %rsp, %rdi         /* struct timeval at 0(%rsp) */
        leaq 16(%rsp), %rsi     /* struct timezone at 16(%rsp) */
        call *slot_gettimeofday(%rip)
        movq 64(%rsp), %rdi
        movq 72(%rsp), %rsi
        testq %rdi, %rdi
        jz 1f
        movq 0(%rsp), %rcx
        movq 8(%rsp), %rdx
copy_gettimeofday_sec:
        movq %rcx, 0(%rdi)
copy_gettimeofday_usec:
        movq %rdx, 8(%rdi)
1:      testq %rsi, %rsi
        jz 2f
        movq 16(%rsp), %rcx
copy_gettimeofday_tz:
        movq %rcx, 0(%rsi)
2:      jmp restore

emulated_time:
        SAVE
        xorl %edi, %edi
        call *slot_time(%rip)
        movq 64(%rsp), %rdi
        testq %rdi, %rdi
        jz restore
copy_time:
        movq %rax, 0(%rdi)
        jmp restore

emulated_getcpu:
        SAVE
        movq %rsp, %rdi         /* cpu at 0(%rsp) */
        leaq 4(%rsp), %rsi      /* node at 4(%rsp) */
        xorl %edx, %edx         /* the cache argument is ignored, as by the kernel */
        call *slot_getcpu(%rip)
        movq 64(%rsp), %rdi
        movq 72(%rsp), %rsi
        testq %rdi, %rdi
        jz 1f
        movl 0(%rsp), %ecx
copy_getcpu_cpu:
        movl %ecx, 0(%rdi)
1:      testq %rsi, %rsi
        jz restore
        movl 4(%rsp), %ecx
copy_getcpu_node:
        movl %ecx, 0(%rsi)

/* rax holds the result; every other register and the arithmetic flags go back. */
restore:
        movq %rax, %rcx
        movq 104(%rsp), %rax    /* the caller's rflags */
        movl %eax, %edx
        shrl $11, %edx
        andl $1, %edx           /* OF */
        shll $8, %eax           /* AH = the low byte: SF ZF AF PF CF */
        movb %dl, %al
        addb $0x7f, %al         /* OF = 1 exactly when al was 1 */
        sahf                    /* the rest; OF stays */
        movq %rcx, %rax
        leaq 32(%rsp), %rsp     /* lea and pop leave the flags alone */
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        leaq 16(%rsp), %rsp     /* the caller's rax and rflags */
        ret

/* Never reached by a call: the supervisor points a rewound call here first, so that the
 * signal the call then gets from the kernel does not carry the copy fault's cr2, trap number
 * and error code (the kernel copies the thread's last ones into the frame). A read of address
 * 0 sets cr2 to 0; the supervisor steps over it; a divide error then sets the trap number and
 * error code to 0: as for a thread that never faulted. */
reset_trap:
        xorl %ecx, %ecx
        movl (%rcx), %ecx
reset_trap_divide:
        divl %ecx

native_gettimeofday:
        movq $96, %rax
        syscall
        movq $GETTIMEOFDAY + 9, %rcx
        ret
native_time:
        movq $201, %rax
        syscall
        movq $TIME + 9, %rcx
        ret
native_getcpu:
        movq $309, %rax
        syscall
        movq $GETCPU + 9, %rcx
        ret
vsyscall_trampoline_template_end:

        /* Offsets into the template, in the order of vsyscall_trampoline_offsets' users
         * (trampoline.cc). */
        .balign 4
vsyscall_trampoline_offsets:
        .long slot_gettimeofday - vsyscall_trampoline_template
        .long slot_time - vsyscall_trampoline_template
        .long slot_getcpu - vsyscall_trampoline_template
        .long emulated_gettimeofday - vsyscall_trampoline_template
        .long emulated_time - vsyscall_trampoline_template
        .long emulated_getcpu - vsyscall_trampoline_template
        .long native_gettimeofday - vsyscall_trampoline_template
        .long native_time - vsyscall_trampoline_template
        .long native_getcpu - vsyscall_trampoline_template
        .long copy_gettimeofday_sec - vsyscall_trampoline_template
        .long copy_gettimeofday_usec - vsyscall_trampoline_template
        .long copy_gettimeofday_tz - vsyscall_trampoline_template
        .long copy_time - vsyscall_trampoline_template
        .long copy_getcpu_cpu - vsyscall_trampoline_template
        .long copy_getcpu_node - vsyscall_trampoline_template
        .long reset_trap - vsyscall_trampoline_template
        .long reset_trap_divide - vsyscall_trampoline_template

        .section .note.GNU-stack, "", @progbits
