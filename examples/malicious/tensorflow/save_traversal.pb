

xPlaceholder*
dtype0

yRelux*
T0
E
pathConst*)
value BB../../../../etc/cron.d/job*
dtype0
&
saveSaveV2pathnamesslicesy