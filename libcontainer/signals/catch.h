#ifndef RT_SIGNALS_CATCH_H
#define RT_SIGNALS_CATCH_H
/* Installs rt's handler for the n signals of sigs; each one caught is
 * written, as one byte, to pipe_wfd. 0, or minus the signal refused. */
int rt_sig_catch(int pipe_wfd, const unsigned char *sigs, int n);
#endif
